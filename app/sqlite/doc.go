// Package sqlite is the car's store on SQLite (modernc.org/sqlite, pure Go):
// hot lists, reads with their plate patch and overview images, hits and
// officer decisions, the outbox the uplink drains to the back office, and a
// hash-chained, append-only audit log. Everything lives in one file in WAL
// mode; the schema comes from numbered migrations embedded in the binary and
// applied in one transaction, with the version in PRAGMA user_version and the
// file marked as ours by PRAGMA application_id.
//
// # Durability
//
// A read is committed, and the WAL synced to the device, before SaveRead,
// SaveReads or Writer.Save returns (synchronous=FULL). In WAL mode
// synchronous=NORMAL syncs only at checkpoints: a committed transaction then
// survives a process crash but not a power cut, and a patrol car loses power
// whenever its ignition or battery does. The engine raises an alert only
// after the read is stored, so an alert must never refer to a read a power
// cut can take back. FULL costs one fsync per transaction; SaveReads and the
// group-commit Writer spread it over many reads.
//
// # Connections and goroutines
//
//	writes ──▶ w: one connection, BEGIN IMMEDIATE ──commit──▶ kick ──▶ checkpointer: own connection, PASSIVE checkpoints
//	queries ──▶ r: up to 4 read-only connections, each on its own WAL snapshot
//
// Writers queue in Go for the single write connection instead of failing
// with SQLITE_BUSY, and a write transaction never has to upgrade a read lock.
// A hot-list import holds that connection for its whole transaction: other
// writes from this process wait for it (so never call another write method
// from the goroutine that holds an open Import), writes from another process
// wait up to the busy timeout. It takes the connection before BEGIN and
// gives it back only after putting back the setting it changes for its
// transaction (foreign keys off). The checkpointer copies the WAL
// back into the database file off the commit path; DB.Close stops it.
//
// # Hot lists
//
// Entries are packed 64 to a row of hotlist_chunks (chunks.go): an import
// appends a row per 64 entries, not a row and an index entry per entry. One
// entry per (list, VRM) is live: of two, the one written last wins and the
// other stays in its chunk marked dead. Besides, every transaction that
// changes a list rewrites that list's packed (id, VRM) pairs in
// hotlist_keys, so that HotlistKeys, which the matching index loads from at
// start, reads about 150 blobs for ten million entries. Every change bumps
// the hot-list generation in the same transaction.
//
// # Reads and the outbox
//
// SaveRead stores the read, its images (apart, so listing reads never pages
// blobs in), its hit with a snapshot of each matched entry (lists change
// later), and its outbox items, in one transaction. The outbox drains hits,
// then decisions, wanted entries, reads with their plate patch, and overview
// images last. A read may be purged only once every outbox item about it has
// been acknowledged by the back office, and a set time has passed since.
package sqlite
