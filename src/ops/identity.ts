// Who did it, as the records that remember it (a dataset version, later a trace or an audit entry)
// write it: the kind of identity, and the client's address when the call came over the network.
// Named API keys will add their name here.
import type { Identity } from "./operation.ts";

export function actorOf(identity: Identity): string {
  return identity.address ? `${identity.kind}@${identity.address}` : identity.kind;
}
