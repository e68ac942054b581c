// Mode `observer.event`: record an event with the observer — its event-recording operation, called in-process.
import { adapter } from "./mode.ts";

export default adapter({
  name: "observer.event",
  operation: "observer.post_events",
  summary: "record an event (or {events: [...]}) with the observer",
});
