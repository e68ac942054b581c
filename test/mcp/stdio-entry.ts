// The stdio bridge as its own process, as `lakehouse mcp` runs it: the tests start this file.
import { runStdio } from "../../src/mcp/stdio.ts";

process.exit(await runStdio(process.argv.slice(2)));
