-- Hot-list entries packed in chunks of up to 64 per row (see chunks.go):
-- an import writes a row per 64 entries instead of a row and an index entry
-- per entry. The program moves the entries of the hotlist table here after
-- this script and drops that table (migrateHotlistChunks in chunks.go).
CREATE TABLE hotlist_chunks (
	id      INTEGER PRIMARY KEY,
	list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	entries BLOB NOT NULL
) STRICT;

CREATE INDEX hotlist_chunks_list ON hotlist_chunks (list_id);
