-- 0001: hot lists, reads with images, hits, decisions, outbox, audit log.
-- Times are integer milliseconds since the Unix epoch, UTC; durations are
-- integer nanoseconds. NULL means "none" (no expiry, no fix, not acknowledged).

PRAGMA application_id = 1095651410; -- 'ANPR'

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES ('hotlist_generation', 0), ('outbox_last_ack', 0);

CREATE TABLE lists (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE,
	updated INTEGER NOT NULL
) STRICT;

CREATE TABLE hotlist (
	id          INTEGER PRIMARY KEY,
	list_id     INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	vrm         TEXT NOT NULL,
	pattern     INTEGER NOT NULL,
	priority    INTEGER NOT NULL,
	covert      INTEGER NOT NULL,
	expires     INTEGER,
	added       INTEGER NOT NULL,
	-- The fields nothing filters on, packed (see entryDetail in hotlist.go):
	-- category, action, information, make, model, colour, reference,
	-- added_by, markers. Ten million rows import several times faster with
	-- two text values to bind per row than with eleven.
	detail      BLOB NOT NULL
) STRICT;

-- Upsert key of an import; covering for (id, vrm) of one list.
CREATE UNIQUE INDEX hotlist_list_vrm ON hotlist (list_id, vrm);

-- Each list's (id, VRM) pairs packed into chunks (see rebuildKeys in
-- hotlist.go), rewritten in the transaction that changes the list, so that
-- HotlistKeys reads a few hundred blobs instead of stepping through ten
-- million rows when the car starts.
CREATE TABLE hotlist_keys (
	list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	chunk   INTEGER NOT NULL,
	n       INTEGER NOT NULL,
	keys    BLOB NOT NULL,
	PRIMARY KEY (list_id, chunk)
) STRICT;

CREATE TABLE reads (
	seq           INTEGER PRIMARY KEY,
	id            TEXT NOT NULL UNIQUE,
	vrm           TEXT NOT NULL,
	raw           TEXT NOT NULL,
	confidence    REAL NOT NULL,
	candidates    TEXT NOT NULL, -- JSON
	char_conf     TEXT NOT NULL, -- JSON
	format        TEXT NOT NULL,
	time          INTEGER NOT NULL,
	clock_source  TEXT NOT NULL,
	clock_offset  INTEGER NOT NULL,
	clock_suspect INTEGER NOT NULL,
	camera        TEXT NOT NULL,
	pos_time      INTEGER,
	fix           TEXT NOT NULL,
	lat           REAL,
	lon           REAL,
	fix_age       INTEGER NOT NULL,
	estimated     INTEGER NOT NULL,
	speed         REAL,
	heading       REAL, -- NULL: unknown (NaN)
	hdop          REAL,
	sats          INTEGER NOT NULL,
	alt           REAL, -- NULL: unknown (NaN)
	pass_id       TEXT NOT NULL,
	has_hit       INTEGER NOT NULL DEFAULT 0,
	acked         INTEGER -- when its last outbox item was acknowledged; NULL while any is pending
) STRICT;

CREATE INDEX reads_time ON reads (time);
CREATE INDEX reads_vrm ON reads (vrm);
CREATE INDEX reads_hit_time ON reads (time) WHERE has_hit = 1;
CREATE INDEX reads_acked ON reads (acked) WHERE acked IS NOT NULL;

-- Images live apart so listing reads never pages blobs in. The patch comes
-- first: reading it does not walk the overview's overflow pages.
CREATE TABLE read_images (
	read_seq INTEGER PRIMARY KEY REFERENCES reads (seq) ON DELETE CASCADE,
	patch    BLOB,
	overview BLOB
) STRICT;

CREATE TABLE hits (
	read_seq INTEGER PRIMARY KEY REFERENCES reads (seq) ON DELETE CASCADE,
	time     INTEGER NOT NULL,
	past     INTEGER NOT NULL
) STRICT;

-- A match keeps a snapshot of the entry as it was at hit time: lists change.
CREATE TABLE hit_matches (
	read_seq  INTEGER NOT NULL REFERENCES hits (read_seq) ON DELETE CASCADE,
	n         INTEGER NOT NULL,
	kind      TEXT NOT NULL,
	candidate TEXT NOT NULL,
	diff      TEXT NOT NULL, -- JSON array of positions
	entry_id  INTEGER NOT NULL,
	list      TEXT NOT NULL,
	entry_vrm TEXT NOT NULL,
	priority  INTEGER NOT NULL,
	covert    INTEGER NOT NULL,
	entry     TEXT NOT NULL, -- JSON snapshot of app.HotlistEntry
	PRIMARY KEY (read_seq, n)
) STRICT, WITHOUT ROWID;

CREATE TABLE decisions (
	id       INTEGER PRIMARY KEY,
	read_seq INTEGER NOT NULL REFERENCES reads (seq) ON DELETE CASCADE,
	outcome  TEXT NOT NULL,
	reason   TEXT NOT NULL,
	officer  TEXT NOT NULL,
	time     INTEGER NOT NULL
) STRICT;

CREATE INDEX decisions_read ON decisions (read_seq);

-- prio is the drain order: 0 hit, 1 decision, 2 wanted, 3 read, 4 overview.
CREATE TABLE outbox (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	kind        TEXT NOT NULL,
	prio        INTEGER NOT NULL,
	queued      INTEGER NOT NULL,
	read_seq    INTEGER REFERENCES reads (seq) ON DELETE CASCADE,
	decision_id INTEGER REFERENCES decisions (id) ON DELETE CASCADE,
	payload     TEXT, -- JSON snapshot for wanted entries
	bytes       INTEGER NOT NULL,
	acked       INTEGER
) STRICT;

-- Covering for OutboxStats, which a status line may ask for every second.
CREATE INDEX outbox_pending ON outbox (prio, seq, bytes, queued) WHERE acked IS NULL;
CREATE INDEX outbox_read ON outbox (read_seq) WHERE read_seq IS NOT NULL;
CREATE INDEX outbox_acked ON outbox (acked) WHERE acked IS NOT NULL AND read_seq IS NULL;

-- The audit log is append-only: the code has no UPDATE or DELETE path, and
-- these triggers refuse one from anywhere else. Each event's hash covers the
-- previous event's hash (see auditHash in audit.go), so an edit made around
-- the triggers shows in VerifyAudit.
CREATE TABLE audit (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	time   INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	detail TEXT NOT NULL,
	hash   BLOB NOT NULL
) STRICT;

CREATE INDEX audit_time ON audit (time);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
