// Package devcert mints what a newcomer needs to run the car and the back
// office securely on one machine in minutes: a development CA, a server
// certificate for localhost and 127.0.0.1, one client certificate per car
// (mutual TLS: the certificate's common name is the car's id), and the
// Ed25519 key the back office signs hot lists with. It also loads them.
//
// A force runs its own PKI; nothing here is meant for production keys.
package devcert

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// File names inside a certificate directory.
const (
	CAFile         = "ca.pem"
	CAKeyFile      = "ca-key.pem"
	ServerFile     = "server.pem"
	ServerKeyFile  = "server-key.pem"
	SigningKeyFile = "hotlist-signing.key"
	SigningPubFile = "hotlist-signing.pub"
)

// CarFiles are the certificate and key file names of one car.
func CarFiles(car string) (cert, key string) { return "car-" + car + ".pem", "car-" + car + "-key.pem" }

var carName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Mint writes a CA, a server certificate, a certificate per car and a
// hot-list signing key into dir, valid from now for validity. An existing CA
// and signing key in dir are reused, so cars can be added later.
func Mint(dir string, cars []string, now time.Time, validity time.Duration) error {
	for _, c := range cars {
		if !carName.MatchString(c) {
			return fmt.Errorf("car name %q: use letters, digits, '.', '_' or '-'", c)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caCert, caKey, err := loadCA(dir)
	if errors.Is(err, os.ErrNotExist) {
		caCert, caKey, err = newCA(dir, now, validity)
	}
	if err != nil {
		return fmt.Errorf("CA: %w", err)
	}
	if err := leaf(dir, ServerFile, ServerKeyFile, "anpr-backoffice", caCert, caKey, now, validity, true); err != nil {
		return fmt.Errorf("server certificate: %w", err)
	}
	for _, car := range cars {
		cf, kf := CarFiles(car)
		if err := leaf(dir, cf, kf, car, caCert, caKey, now, validity, false); err != nil {
			return fmt.Errorf("certificate for %s: %w", car, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, SigningKeyFile)); errors.Is(err, os.ErrNotExist) {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		if err := writePEM(filepath.Join(dir, SigningKeyFile), "PRIVATE KEY", der, 0o600); err != nil {
			return err
		}
		pder, _ := x509.MarshalPKIXPublicKey(pub)
		if err := writePEM(filepath.Join(dir, SigningPubFile), "PUBLIC KEY", pder, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func newCA(dir string, now time.Time, validity time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "ANPR development CA", Organization: []string{"ANPR dev"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := writePEM(filepath.Join(dir, CAFile), "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	if err := writePEM(filepath.Join(dir, CAKeyFile), "PRIVATE KEY", kder, 0o600); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	der, err := readPEM(filepath.Join(dir, CAFile), "CERTIFICATE")
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	kder, err := readPEM(filepath.Join(dir, CAKeyFile), "PRIVATE KEY")
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kder)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("CA key is not ECDSA")
	}
	return cert, key, nil
}

func leaf(dir, certFile, keyFile, cn string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time, validity time.Duration, server bool) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn, Organization: []string{"ANPR dev"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := writePEM(filepath.Join(dir, certFile), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, keyFile), "PRIVATE KEY", kder, 0o600)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

func readPEM(path, typ string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != typ {
		return nil, fmt.Errorf("%s: no PEM %s block", path, typ)
	}
	return b.Bytes, nil
}

// ServerTLS is the back office's side of mutual TLS from a certificate
// directory: it presents the server certificate and verifies any client
// certificate against the CA. Client certificates are optional at the TLS
// layer because staff authenticate with tokens; the car endpoints refuse a
// request without a verified one.
func ServerTLS(dir string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerFile), filepath.Join(dir, ServerKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load server certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s holds no certificate", CAFile)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven,
		MinVersion: tls.VersionTLS13}, nil
}

// SigningKey loads the hot-list signing key.
func SigningKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("hot-list signing key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("hot-list signing key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("hot-list signing key %s is not Ed25519", path)
	}
	return key, nil
}

// PublicKey loads the hot-list verification key a car is configured with.
func PublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, fmt.Errorf("hot-list public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("hot-list public key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("hot-list public key %s is not Ed25519", path)
	}
	return key, nil
}
