package main

import (
	"context"
	"strings"

	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/pgstore"
	"github.com/ukanpr/anpr/sync/backoffice/sqlitestore"
)

// openStore opens the store a DSN names: postgres://… or a SQLite path.
func openStore(ctx context.Context, dsn string) (backoffice.Store, error) {
	if dsn == "" {
		return nil, badUsage("--db is required: a SQLite file path or postgres://…")
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return pgstore.Open(ctx, dsn, pgstore.Options{})
	}
	return sqlitestore.Open(dsn)
}
