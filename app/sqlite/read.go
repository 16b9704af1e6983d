package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ukanpr/anpr/app"
)

// readMetaBytes approximates what a read costs on the wire besides its images.
const readMetaBytes = 512

// ReadWithHit is a read and, when it matched, its hit.
type ReadWithHit struct {
	Read app.Read
	Hit  *app.Hit
}

// SaveRead stores a read, its images, its hit when hit is not nil, and their
// outbox items in one transaction. When it returns nil the read is committed
// and synced: it survives a crash or a power cut. Saving a read whose id is
// already stored does nothing and returns nil.
func (db *DB) SaveRead(ctx context.Context, r app.Read, hit *app.Hit) error {
	return db.saveReads(ctx, []ReadWithHit{{Read: r, Hit: hit}}, "save read "+r.ID)
}

// SaveReads stores several reads in one transaction: one sync for all of
// them, which is what lets a busy writer keep up. As with SaveRead, none is
// stored unless all are, and reads already stored are skipped.
func (db *DB) SaveReads(ctx context.Context, reads []ReadWithHit) error {
	if len(reads) == 0 {
		return nil
	}
	return db.saveReads(ctx, reads, fmt.Sprintf("save %d reads from %s", len(reads), reads[0].Read.ID))
}

func (db *DB) saveReads(ctx context.Context, reads []ReadWithHit, what string) error {
	for _, rh := range reads {
		if err := validRead(rh.Read, rh.Hit); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	now := db.Now()
	for _, rh := range reads {
		if err := saveReadTx(ctx, tx, rh.Read, rh.Hit, now); err != nil {
			if len(reads) == 1 {
				return fmt.Errorf("%s: %w", what, err)
			}
			return fmt.Errorf("%s: read %s: %w", what, rh.Read.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func validRead(r app.Read, h *app.Hit) error {
	switch {
	case r.ID == "":
		return errors.New("read has no id")
	case r.Time.IsZero():
		return errors.New("read has no capture time")
	case h != nil && h.ReadID != "" && h.ReadID != r.ID:
		return fmt.Errorf("hit is for read %s", h.ReadID)
	}
	return nil
}

const sqlReadInsert = `INSERT INTO reads (id, vrm, raw, confidence, candidates, char_conf, format, time,
	clock_source, clock_offset, clock_suspect, camera, pos_time, fix, lat, lon, fix_age, estimated,
	speed, heading, hdop, sats, alt, pass_id)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO NOTHING RETURNING seq`

// The statements every read write runs, prepared once when the store opens.
const (
	sqlImagesInsert     = "INSERT INTO read_images (read_seq, patch, overview) VALUES (?, ?, ?)"
	sqlOutboxInsert     = "INSERT INTO outbox (kind, prio, queued, read_seq, decision_id, bytes) VALUES (?, ?, ?, ?, ?, ?)"
	sqlUnack            = "UPDATE reads SET acked = NULL WHERE seq = ? AND acked IS NOT NULL"
	sqlHitMatchesDelete = "DELETE FROM hit_matches WHERE read_seq = ?"
	sqlReadHasHit       = "UPDATE reads SET has_hit = 1 WHERE seq = ?"
	sqlHitInsert        = `INSERT INTO hits (read_seq, time, past) VALUES (?, ?, ?)
		ON CONFLICT (read_seq) DO UPDATE SET time = excluded.time, past = excluded.past`
	sqlHitMatchInsert = `INSERT INTO hit_matches (read_seq, n, kind, candidate, diff, entry_id,
		list, entry_vrm, priority, covert, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// finite turns a NaN or infinite confidence into 0. A recogniser glitch must
// not make a read unsaveable (JSON and the NOT NULL column refuse NaN), and a
// read is never dropped.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// finiteConfidences returns r with every confidence finite, without
// touching the caller's slices.
func finiteConfidences(r app.Read) app.Read {
	r.Confidence = finite(r.Confidence)
	r.Candidates = slices.Clone(r.Candidates)
	for i := range r.Candidates {
		r.Candidates[i].Confidence = finite(r.Candidates[i].Confidence)
	}
	r.CharConfidences = slices.Clone(r.CharConfidences)
	for i := range r.CharConfidences {
		r.CharConfidences[i] = finite(r.CharConfidences[i])
	}
	return r
}

func saveReadTx(ctx context.Context, tx *wtx, r app.Read, h *app.Hit, now time.Time) error {
	r = finiteConfidences(r)
	cands, err := json.Marshal(r.Candidates)
	if err != nil {
		return err
	}
	chars, err := json.Marshal(r.CharConfidences)
	if err != nil {
		return err
	}
	p := r.Position
	var seq int64
	err = tx.QueryRowContext(ctx, sqlReadInsert, r.ID, r.VRM, r.Raw, r.Confidence, string(cands), string(chars),
		string(r.Format), ms(r.Time), string(r.ClockSource), int64(r.ClockOffset), boolInt(r.ClockSuspect),
		r.Camera, msOrNull(p.Time), string(p.Fix), nullFloat(p.Lat), nullFloat(p.Lon), int64(p.Age),
		boolInt(p.Estimated), nullFloat(p.SpeedMPS), nullFloat(p.HeadingDeg), nullFloat(p.HDOP), p.Sats,
		nullFloat(p.AltM), r.PassID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // already stored: saving again is a no-op
	}
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	if r.Patch != nil || r.Overview != nil {
		_, err = tx.ExecContext(ctx, sqlImagesInsert, seq, r.Patch, r.Overview)
		if err != nil {
			return fmt.Errorf("insert images: %w", err)
		}
	}
	if err := enqueue(ctx, tx, app.OutboxRead, now, seq, 0, readMetaBytes+len(r.Patch)); err != nil {
		return err
	}
	if len(r.Overview) > 0 {
		if err := enqueue(ctx, tx, app.OutboxOverview, now, seq, 0, len(r.Overview)); err != nil {
			return err
		}
	}
	if h != nil {
		return saveHitTx(ctx, tx, seq, *h, now)
	}
	return nil
}

// outboxPrio is the drain order of each kind.
var outboxPrio = map[app.OutboxKind]int{
	app.OutboxHit:      0,
	app.OutboxDecision: 1,
	app.OutboxWanted:   2,
	app.OutboxRead:     3,
	app.OutboxOverview: 4,
}

// enqueue adds an outbox item about a read (and a decision when decisionID is
// not 0). Queuing about a stored read must also unack it.
func enqueue(ctx context.Context, tx *wtx, kind app.OutboxKind, now time.Time, readSeq, decisionID int64, bytes int) error {
	dec := sql.NullInt64{Int64: decisionID, Valid: decisionID != 0}
	_, err := tx.ExecContext(ctx, sqlOutboxInsert, string(kind), outboxPrio[kind], ms(now), readSeq, dec, bytes)
	if err != nil {
		return fmt.Errorf("queue %s for back office: %w", kind, err)
	}
	return nil
}

// unack marks a read not fully acknowledged: a new item about it is queued.
func unack(ctx context.Context, tx *wtx, readSeq int64) error {
	if _, err := tx.ExecContext(ctx, sqlUnack, readSeq); err != nil {
		return fmt.Errorf("mark read pending: %w", err)
	}
	return nil
}

// nullFloat stores NaN ("unknown") as NULL; SQLite has no NaN.
func nullFloat(f float64) sql.NullFloat64 {
	if math.IsNaN(f) {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: f, Valid: true}
}

func fromNullFloat(f sql.NullFloat64) float64 {
	if !f.Valid {
		return math.NaN()
	}
	return f.Float64
}

func saveHitTx(ctx context.Context, tx *wtx, seq int64, h app.Hit, now time.Time) error {
	if h.Time.IsZero() {
		h.Time = now
	}
	_, err := tx.ExecContext(ctx, sqlHitInsert, seq, ms(h.Time), boolInt(h.Past))
	if err != nil {
		return fmt.Errorf("insert hit: %w", err)
	}
	if _, err := tx.ExecContext(ctx, sqlHitMatchesDelete, seq); err != nil {
		return fmt.Errorf("replace hit matches: %w", err)
	}
	bytes := readMetaBytes
	for i, m := range h.Matches {
		entry, err := json.Marshal(m.Entry)
		if err != nil {
			return err
		}
		diff, err := json.Marshal(m.Diff)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, sqlHitMatchInsert, seq, i, string(m.Kind), m.Candidate, string(diff), m.Entry.ID, m.Entry.List, m.Entry.VRM,
			m.Entry.Priority, boolInt(m.Entry.Covert), string(entry))
		if err != nil {
			return fmt.Errorf("insert hit match %d: %w", i, err)
		}
		bytes += len(entry) + 64
	}
	if _, err := tx.ExecContext(ctx, sqlReadHasHit, seq); err != nil {
		return fmt.Errorf("mark read hit: %w", err)
	}
	return enqueue(ctx, tx, app.OutboxHit, now, seq, 0, bytes)
}

// readSeq returns the row of a read id, or ErrNotFound.
func readSeq(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, "SELECT seq FROM reads WHERE id = ?", id).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return seq, err
}

// SaveHit stores a hit raised after its read was stored (a past hit found by
// re-checking reads against a changed list), replacing any earlier hit of
// that read, and queues it for the back office. The read must exist
// (ErrNotFound otherwise).
func (db *DB) SaveHit(ctx context.Context, h app.Hit) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("save hit %s: %w", h.ReadID, err)
	}
	defer tx.Rollback()
	seq, err := readSeq(ctx, tx, h.ReadID)
	if err != nil {
		return fmt.Errorf("save hit %s: read: %w", h.ReadID, err)
	}
	if err := saveHitTx(ctx, tx, seq, h, db.Now()); err != nil {
		return fmt.Errorf("save hit %s: %w", h.ReadID, err)
	}
	if err := unack(ctx, tx, seq); err != nil {
		return fmt.Errorf("save hit %s: %w", h.ReadID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save hit %s: %w", h.ReadID, err)
	}
	return nil
}

// SaveDecision validates and stores an officer's decision on a hit, queues it
// for the back office and records an audit event, in one transaction. The hit
// must exist (ErrNotFound otherwise). Later decisions on the same hit are
// kept beside earlier ones.
func (db *DB) SaveDecision(ctx context.Context, d app.Decision) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("save decision on %s: %w", d.ReadID, err)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("save decision on %s: %w", d.ReadID, err)
	}
	defer tx.Rollback()
	if err := saveDecisionTx(ctx, tx, d, db.Now()); err != nil {
		return fmt.Errorf("save decision on %s: %w", d.ReadID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save decision on %s: %w", d.ReadID, err)
	}
	return nil
}

func saveDecisionTx(ctx context.Context, tx *wtx, d app.Decision, now time.Time) error {
	var seq int64
	err := tx.QueryRowContext(ctx, "SELECT r.seq FROM reads r JOIN hits h ON h.read_seq = r.seq WHERE r.id = ?", d.ReadID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("hit: %w", ErrNotFound)
	}
	if err != nil {
		return err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO decisions (read_seq, outcome, reason, officer, time)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, seq, string(d.Outcome), d.Reason, d.Officer, ms(d.Time)).Scan(&id)
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	if err := enqueue(ctx, tx, app.OutboxDecision, now, seq, id, 256+len(d.Reason)); err != nil {
		return err
	}
	if err := unack(ctx, tx, seq); err != nil {
		return err
	}
	detail := fmt.Sprintf("read=%s outcome=%s", d.ReadID, d.Outcome)
	if d.Reason != "" {
		detail += " reason=" + d.Reason
	}
	return auditTx(ctx, tx, app.AuditEvent{Time: d.Time, Actor: d.Officer, Action: "decision", Detail: detail})
}

// Decisions returns the decisions recorded on a read's hit, oldest first.
func (db *DB) Decisions(ctx context.Context, readID string) ([]app.Decision, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT d.outcome, d.reason, d.officer, d.time FROM decisions d
		JOIN reads r ON r.seq = d.read_seq WHERE r.id = ? ORDER BY d.id`, readID)
	if err != nil {
		return nil, fmt.Errorf("decisions on %s: %w", readID, err)
	}
	defer rows.Close()
	var out []app.Decision
	for rows.Next() {
		d := app.Decision{ReadID: readID}
		var t int64
		if err := rows.Scan(&d.Outcome, &d.Reason, &d.Officer, &t); err != nil {
			return nil, fmt.Errorf("decisions on %s: %w", readID, err)
		}
		d.Time = fromMS(t)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decisions on %s: %w", readID, err)
	}
	return out, nil
}

const readCols = `r.seq, r.id, r.vrm, r.raw, r.confidence, r.candidates, r.char_conf, r.format, r.time,
	r.clock_source, r.clock_offset, r.clock_suspect, r.camera, r.pos_time, r.fix, r.lat, r.lon,
	r.fix_age, r.estimated, r.speed, r.heading, r.hdop, r.sats, r.alt, r.pass_id`

// scanRead scans readCols, followed by patch and overview when images is set.
func scanRead(sc interface{ Scan(...any) error }, images bool) (int64, app.Read, error) {
	var (
		r                                   app.Read
		seq, t, offset, age                 int64
		cands, chars                        string
		suspect, estimated                  int
		posTime                             sql.NullInt64
		lat, lon, speed, heading, hdop, alt sql.NullFloat64
	)
	dest := []any{&seq, &r.ID, &r.VRM, &r.Raw, &r.Confidence, &cands, &chars, &r.Format, &t,
		&r.ClockSource, &offset, &suspect, &r.Camera, &posTime, &r.Position.Fix, &lat, &lon,
		&age, &estimated, &speed, &heading, &hdop, &r.Position.Sats, &alt, &r.PassID}
	if images {
		dest = append(dest, &r.Patch, &r.Overview)
	}
	if err := sc.Scan(dest...); err != nil {
		return 0, r, err
	}
	if err := json.Unmarshal([]byte(cands), &r.Candidates); err != nil {
		return 0, r, fmt.Errorf("read %s candidates: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(chars), &r.CharConfidences); err != nil {
		return 0, r, fmt.Errorf("read %s character confidences: %w", r.ID, err)
	}
	r.Time = fromMS(t)
	r.ClockOffset = time.Duration(offset)
	r.ClockSuspect = suspect != 0
	p := &r.Position
	p.Time = fromNullMS(posTime)
	p.Lat, p.Lon = fromNullFloat(lat), fromNullFloat(lon)
	p.Age = time.Duration(age)
	p.Estimated = estimated != 0
	p.SpeedMPS, p.HeadingDeg, p.HDOP, p.AltM = fromNullFloat(speed), fromNullFloat(heading), fromNullFloat(hdop), fromNullFloat(alt)
	return seq, r, nil
}

// Read returns a stored read with its images, or ErrNotFound.
func (db *DB) Read(ctx context.Context, id string) (app.Read, error) {
	row := db.r.QueryRowContext(ctx, "SELECT "+readCols+", i.patch, i.overview FROM reads r "+
		"LEFT JOIN read_images i ON i.read_seq = r.seq WHERE r.id = ?", id)
	_, r, err := scanRead(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Read{}, fmt.Errorf("read %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return app.Read{}, fmt.Errorf("read %s: %w", id, err)
	}
	return r, nil
}

// ReadQuery selects reads. Zero fields do not filter.
type ReadQuery struct {
	From, To  time.Time // capture time in [From, To)
	VRM       string    // part of the VRM, as normalised (upper case, no spaces)
	VRMPrefix bool      // VRM must start with VRM rather than contain it
	Camera    string
	HitsOnly  bool
	Limit     int  // at most this many, newest first; 0 means DefaultReadLimit
	Images    bool // load the plate patch and overview too
}

// DefaultReadLimit is how many reads Reads returns when the query sets no limit.
const DefaultReadLimit = 100

// Reads returns the reads q selects, newest capture time first.
func (db *DB) Reads(ctx context.Context, q ReadQuery) ([]app.Read, error) {
	var (
		where []string
		args  []any
	)
	if q.HitsOnly {
		where = append(where, "r.has_hit = 1")
	}
	if !q.From.IsZero() {
		where = append(where, "r.time >= ?")
		args = append(args, ms(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "r.time < ?")
		args = append(args, ms(q.To))
	}
	if q.VRM != "" {
		if q.VRMPrefix {
			// A range keeps the VRM index usable, which LIKE with a bound
			// parameter would not.
			where = append(where, "r.vrm >= ? AND r.vrm < ?")
			args = append(args, q.VRM, q.VRM+"\U0010FFFF")
		} else {
			where = append(where, `r.vrm LIKE ? ESCAPE '\'`)
			args = append(args, "%"+escapeLike(q.VRM)+"%")
		}
	}
	if q.Camera != "" {
		where = append(where, "r.camera = ?")
		args = append(args, q.Camera)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	cols := readCols
	from := "reads r"
	if q.Images {
		cols += ", i.patch, i.overview"
		from += " LEFT JOIN read_images i ON i.read_seq = r.seq"
	}
	stmt := "SELECT " + cols + " FROM " + from
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	stmt += " ORDER BY r.time DESC, r.seq DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("query reads: %w", err)
	}
	defer rows.Close()
	var out []app.Read
	for rows.Next() {
		_, r, err := scanRead(rows, q.Images)
		if err != nil {
			return nil, fmt.Errorf("query reads: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query reads: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// Hit returns the hit of a read with its matches, or ErrNotFound.
func (db *DB) Hit(ctx context.Context, readID string) (app.Hit, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return app.Hit{}, fmt.Errorf("hit %s: %w", readID, err)
	}
	defer tx.Rollback()
	h, err := hitTx(ctx, tx, readID)
	if err != nil {
		return app.Hit{}, fmt.Errorf("hit %s: %w", readID, err)
	}
	return h, nil
}

func hitTx(ctx context.Context, tx *sql.Tx, readID string) (app.Hit, error) {
	h := app.Hit{ReadID: readID}
	var (
		seq, t int64
		past   int
	)
	err := tx.QueryRowContext(ctx, `SELECT h.read_seq, h.time, h.past FROM hits h JOIN reads r ON r.seq = h.read_seq
		WHERE r.id = ?`, readID).Scan(&seq, &t, &past)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, err
	}
	h.Time, h.Past = fromMS(t), past != 0
	h.Matches, err = hitMatches(ctx, tx, seq)
	return h, err
}

func hitMatches(ctx context.Context, tx *sql.Tx, seq int64) ([]app.Match, error) {
	rows, err := tx.QueryContext(ctx, "SELECT kind, candidate, diff, entry FROM hit_matches WHERE read_seq = ? ORDER BY n", seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.Match
	for rows.Next() {
		var (
			m           app.Match
			diff, entry string
		)
		if err := rows.Scan(&m.Kind, &m.Candidate, &diff, &entry); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(diff), &m.Diff); err != nil {
			return nil, fmt.Errorf("match diff: %w", err)
		}
		if err := json.Unmarshal([]byte(entry), &m.Entry); err != nil {
			return nil, fmt.Errorf("match entry: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
