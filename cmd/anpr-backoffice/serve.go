package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/ukanpr/anpr/sync/backoffice"
	"github.com/ukanpr/anpr/sync/backoffice/devcert"
)

func init() {
	register(command{name: "serve", summary: "run the back-office HTTPS service", run: runServe})
}

func runServe(ctx context.Context, m *Main, args []string) error {
	fs := newFlags("serve", "serve --listen ADDR --db DSN [--tls-dir DIR] [--signing-key FILE] [options]", m.Stdout)
	listen := fs.String("listen", "127.0.0.1:8443", "address to listen on")
	dsn := fs.String("db", "", "store: a SQLite file path or postgres://…")
	tlsDir := fs.String("tls-dir", "", "directory from 'anpr-backoffice certs': serve HTTPS with mutual TLS for cars")
	keyFile := fs.String("signing-key", "", "Ed25519 hot-list signing key (default: TLS-DIR/"+devcert.SigningKeyFile+")")
	retention := fs.Duration("retention", backoffice.DefaultPolicy().Retention, "reads older than this are deleted")
	openAge := fs.Duration("open-age", backoffice.DefaultPolicy().OpenAge, "reads up to this old are searchable by any role that may search")
	seriousAge := fs.Duration("serious-age", backoffice.DefaultPolicy().SeriousAge, "reads up to this old are searchable for serious, major or counter-terrorism investigations")
	insecure := fs.Bool("insecure-dev", false, "without --tls-dir: plain HTTP, cars named by the X-ANPR-Car header (development only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tlsDir == "" && !*insecure {
		return badUsage("--tls-dir is required (cars authenticate with client certificates); --insecure-dev serves plain HTTP for development")
	}
	if *keyFile == "" && *tlsDir != "" {
		*keyFile = filepath.Join(*tlsDir, devcert.SigningKeyFile)
	}
	if *keyFile == "" {
		return badUsage("hot lists need a signing key: --signing-key FILE or --tls-dir DIR")
	}
	key, err := devcert.SigningKey(*keyFile)
	if err != nil {
		return badUsage("%v", err)
	}
	policy := backoffice.DefaultPolicy()
	policy.Retention, policy.OpenAge, policy.SeriousAge = *retention, *openAge, *seriousAge
	if err := policy.Validate(); err != nil {
		return asUsage(err)
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	return serve(ctx, m, st, policy, key, *listen, *tlsDir, *insecure)
}

func serve(ctx context.Context, m *Main, st backoffice.Store, policy backoffice.Policy, key ed25519.PrivateKey, listen, tlsDir string, insecure bool) error {
	logger := slog.New(slog.NewTextHandler(m.Stderr, nil))
	srv := backoffice.NewServer(st, key)
	srv.Policy, srv.Logger, srv.Now = policy, logger, m.Now
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	if tlsDir != "" {
		cfg, err := devcert.ServerTLS(tlsDir)
		if err != nil {
			return badUsage("%v", err)
		}
		hs.TLSConfig = cfg
		scheme = "https"
	} else {
		srv.InsecureCarHeader = insecure
		logger.Warn("serving plain HTTP without client certificates: development only")
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	fmt.Fprintf(m.Stdout, "listening on %s://%s\n", scheme, ln.Addr())
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}

	// Retention: drop what has aged out, now and hourly.
	retain := func() {
		cut := m.Now().Add(-policy.Retention)
		n, err := st.DropReadsBefore(ctx, cut)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				logger.Error("retention", "err", err)
			}
			return
		}
		if n > 0 {
			st.AppendAudit(ctx, backoffice.AuditEvent{Time: m.Now(), Actor: "system", Action: "retention.drop",
				Detail: fmt.Sprintf(`{"before":%q,"reads":%d}`, cut.Format(time.RFC3339), n)})
			logger.Info("retention: dropped reads", "before", cut, "reads", n)
		}
	}
	go func() {
		retain()
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				retain()
			}
		}
	}()

	errc := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	}
}
