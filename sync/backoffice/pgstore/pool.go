package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// pool is a fixed set of connection slots, each connected on first use and
// replaced when it breaks. (pgxpool would need another module; this is all
// the store needs.)
type pool struct {
	cfg   *pgx.ConnConfig
	slots chan *pgx.Conn // nil: a free slot with no connection yet
}

func newPool(cfg *pgx.ConnConfig, n int) *pool {
	p := &pool{cfg: cfg, slots: make(chan *pgx.Conn, n)}
	for range n {
		p.slots <- nil
	}
	return p
}

func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case c := <-p.slots:
		if c != nil && !c.IsClosed() {
			return c, nil
		}
		c, err := pgx.ConnectConfig(ctx, p.cfg)
		if err != nil {
			p.slots <- nil
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release returns c to the pool, or closes it when it is not idle (a
// cancelled query can leave it mid-protocol).
func (p *pool) release(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().IsBusy() || c.PgConn().TxStatus() != 'I' {
		forgetConn(c)
		c.Close(context.Background())
		p.slots <- nil
		return
	}
	p.slots <- c
}

func (p *pool) close() {
	for range cap(p.slots) {
		if c := <-p.slots; c != nil {
			forgetConn(c)
			c.Close(context.Background())
		}
	}
}
