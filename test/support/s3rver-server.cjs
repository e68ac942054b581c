// Runs s3rver as its own Node process. It is a separate process (not in the test's Bun runtime)
// because s3rver encrypts ListObjectsV2 continuation tokens with DES, which Bun's crypto lacks and
// Node only offers with --openssl-legacy-provider. Prints {"port":N} once listening.
const S3rver = require("s3rver");

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
server.run().then((address) => {
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
