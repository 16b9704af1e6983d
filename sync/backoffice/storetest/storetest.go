// Package storetest opens real back-office stores for tests: a SQLite file in
// the test's temporary directory, and a private schema in the PostgreSQL
// database named by ANPR_TEST_POSTGRES (the test script starts a throwaway
// cluster and exports it). PostgreSQL tests skip, saying why, when it is unset.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/pgstore"
	"github.com/ukanpr/anpr/sync/backoffice/sqlitestore"
)

// EnvPostgres names the variable holding the test database's DSN.
const EnvPostgres = "ANPR_TEST_POSTGRES"

// Store is a backoffice.Store that tests may also tamper with.
type Store interface {
	backoffice.Store
	Exec(ctx context.Context, query string, args ...any) error
}

// Kinds are the store kinds Open knows, for table tests.
var Kinds = []string{"sqlite", "postgres"}

// Open opens a fresh store of kind ("sqlite" or "postgres"), closed and
// removed when the test ends.
func Open(t testing.TB, kind string) Store {
	t.Helper()
	switch kind {
	case "sqlite":
		s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "backoffice.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	case "postgres":
		dsn := PostgresDSN(t)
		schema := Schema()
		s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			s.DropSchema(context.Background(), schema)
			s.Close()
		})
		return s
	}
	t.Fatalf("unknown store kind %q", kind)
	return nil
}

// PostgresDSN returns the test database's DSN or skips the test.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		t.Skip(EnvPostgres + " is not set, so the PostgreSQL tests are skipped; `make test` (.ci/test.sh) starts a throwaway cluster and sets it")
	}
	return dsn
}

// Schema returns a fresh schema name for one test's tables.
func Schema() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "anpr_test_" + hex.EncodeToString(b)
}
