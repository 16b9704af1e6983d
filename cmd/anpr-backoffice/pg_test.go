package main

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
)

// withSearchPath points a DSN at one schema.
func withSearchPath(dsn, schema string) string {
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func createSchema(t *testing.T, dsn, schema string) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
}
