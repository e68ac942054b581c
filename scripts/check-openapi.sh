#!/usr/bin/env bash
# Checks the OpenAPI document the server serves, the way outside tooling will use it:
#   1. writes it (bun scripts/openapi.ts) to tmp/openapi/openapi.json (git-ignored);
#   2. validates it against the official OAS 3.1 JSON schema (@seriousme/openapi-schema-validator);
#   3. lints it with Redocly's recommended rules (redocly.yaml): 0 errors and 0 warnings;
#   4. generates client types with openapi-typescript and compiles a typed client
#      (scripts/openapi-client-check.ts) with tsc --strict.
# Every step runs even when an earlier one failed (except when there is no document), so one run
# shows every problem. Exit status 0 only when all pass. Used by .ci/run.
set -uo pipefail
cd "$(dirname "$0")/.."

# Redocly and openapi-typescript run on Bun's runtime: Node 20 works but makes Redocly print an
# end-of-life banner. No telemetry, no update check.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
# The installed devDependencies by path (bunx would fetch a same-named package when one is missing).
redocly=(bun --bun node_modules/@redocly/cli/bin/cli.js)
openapi_typescript=(bun --bun node_modules/openapi-typescript/bin/cli.js)
for tool in node_modules/@redocly/cli/bin/cli.js node_modules/openapi-typescript/bin/cli.js node_modules/.bin/tsc; do
  [ -e "$tool" ] || { echo "openapi: $tool is missing; run bun install"; exit 1; }
done

out=tmp/openapi
doc=$out/openapi.json
types=$out/lakehouse-api.ts
mkdir -p "$out"
rm -f "$doc" "$types"
failures=()

echo "openapi: writing $doc"
if ! bun scripts/openapi.ts "$doc"; then
  echo "openapi: FAILED to build the document (bun scripts/openapi.ts)"
  exit 1
fi

echo "openapi: validating against the OAS 3.1 schema"
if ! bun -e '
  const { Validator } = await import("@seriousme/openapi-schema-validator");
  const validator = new Validator();
  const result = await validator.validate(process.argv[1]);
  if (validator.version !== "3.1") { console.log(`not an OAS 3.1 document (version ${validator.version})`); process.exit(1); }
  if (!result.valid) { console.log(JSON.stringify(result.errors, null, 2)); process.exit(1); }
  console.log("openapi: valid OAS 3.1");
' "$doc"; then
  failures+=("the document does not validate against the OAS 3.1 schema")
fi

echo "openapi: redocly lint (recommended rules, redocly.yaml)"
lint_json=$(mktemp)
"${redocly[@]}" lint --format json "$doc" >"$lint_json" 2>/dev/null
lint_status=$?
counts=$(bun -e 'const r = JSON.parse(await Bun.file(process.argv[1]).text()); console.log(`${r.totals.errors} ${r.totals.warnings}`)' "$lint_json" 2>/dev/null)
rm -f "$lint_json"
read -r lint_errors lint_warnings <<<"${counts:-? ?}"
if [ "$lint_status" -ne 0 ] || [ "$lint_errors" != "0" ] || [ "$lint_warnings" != "0" ]; then
  # Again in the readable format, to show each problem where it is.
  "${redocly[@]}" lint --format stylish "$doc"
  failures+=("redocly lint: ${lint_errors} errors, ${lint_warnings} warnings (0 and 0 required; fix the generator, src/ops/openapi.ts)")
else
  echo "openapi: redocly lint: 0 errors, 0 warnings"
fi

echo "openapi: generating client types ($types) and compiling scripts/openapi-client-check.ts"
"${openapi_typescript[@]}" "$doc" --output "$types" >/dev/null
gen_status=$?
if [ "$gen_status" -ne 0 ]; then
  failures+=("openapi-typescript could not generate types from the document")
elif ! node_modules/.bin/tsc -p scripts/openapi-client.tsconfig.json; then
  failures+=("the typed client (scripts/openapi-client-check.ts) does not compile with tsc --strict against the generated types")
else
  echo "openapi: typed client compiles"
fi

if [ "${#failures[@]}" -gt 0 ]; then
  echo "openapi check FAILED:"
  for f in "${failures[@]}"; do echo "  - $f"; done
  exit 1
fi
echo "openapi check passed"
