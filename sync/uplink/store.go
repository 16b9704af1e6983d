package uplink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/ukanpr/anpr/app"
)

// ImportTx is one hot-list import transaction (app/sqlite's *Import).
type ImportTx[R any] interface {
	Add(app.HotlistEntry) error
	Commit() (R, error)
	Rollback() error
}

// Importer begins import transactions (app/sqlite's *DB).
type Importer[T ImportTx[R], R any] interface {
	BeginImport(ctx context.Context, list string, replace bool) (T, error)
}

// ImportStore adapts a store with import transactions to HotlistStore: one
// replacing import per list, so the swap is atomic. With app/sqlite:
//
//	uplink.ImportStore[*sqlite.Import, sqlite.ImportResult](db)
func ImportStore[T ImportTx[R], R any](s Importer[T, R]) HotlistStore {
	return importStore[T, R]{s}
}

type importStore[T ImportTx[R], R any] struct{ s Importer[T, R] }

func (is importStore[T, R]) ReplaceHotlist(ctx context.Context, list string, entries []app.HotlistEntry) error {
	imp, err := is.s.BeginImport(ctx, list, true)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := imp.Add(e); err != nil {
			return errors.Join(err, imp.Rollback())
		}
	}
	_, err = imp.Commit()
	return err
}

// TLSConfig is the car's side of mutual TLS: it trusts only the force CA in
// caFile and presents the car's certificate and key.
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load car certificate: %w", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}, nil
}
