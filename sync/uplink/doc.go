// Package uplink is the car's side of sync: it drains the outbox to the back
// office and keeps the car's hot lists in step with the ones the back office
// publishes.
//
// Draining: the outbox hands out items in priority order (hits, decisions,
// wanted entries, reads with their plate patches, overviews last); the client
// packs them into batches bounded by count and bytes, gzips each, and posts
// it over mutual TLS. Items are acknowledged in the outbox only after the back
// office answers 200 with an ack naming the batch, which it sends only after
// the batch's transaction committed. A batch that fails for any reason (no
// route, a 5xx, a cut connection, a timeout, the process killed) is simply
// sent again later; the back office ignores what it already holds, by read id,
// so nothing is lost and nothing is stored twice. Because the queue lives in
// the car's database, a restart resumes where the last acknowledged batch left
// off.
//
// Failures back off exponentially with jitter between MinBackoff and
// MaxBackoff; time and randomness are injected so tests never sleep.
//
// Hot lists: the client asks for each published list since the generation it
// last applied, gets a delta when the back office still holds that
// generation (else the full list), verifies the Ed25519 signature with the
// configured key, refuses anything not newer than what it has (a replay) or
// not built on its generation, and only then replaces the list in one import
// transaction. A refused list leaves the old one in force, with the reason in
// Status.
//
// Concurrency: Start runs one goroutine that owns the loop; Notify nudges it
// (never blocks; coalesces); Stop cancels it and waits. SyncOnce and
// FetchHotlists are the same work done synchronously, for tests and tools.
package uplink
