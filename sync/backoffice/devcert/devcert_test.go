package devcert

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMintAndLoad(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if err := Mint(dir, []string{"car-1"}, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	ca1, _ := os.ReadFile(filepath.Join(dir, CAFile))
	key1, _ := os.ReadFile(filepath.Join(dir, SigningKeyFile))
	// Adding a car later keeps the CA and the signing key.
	if err := Mint(dir, []string{"car-2"}, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	ca2, _ := os.ReadFile(filepath.Join(dir, CAFile))
	key2, _ := os.ReadFile(filepath.Join(dir, SigningKeyFile))
	if string(ca1) != string(ca2) || string(key1) != string(key2) {
		t.Fatal("re-minting replaced the CA or the signing key")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca2)
	for _, tc := range []struct {
		file   string
		usage  x509.ExtKeyUsage
		host   string
		wantCN string
	}{
		{ServerFile, x509.ExtKeyUsageServerAuth, "127.0.0.1", "anpr-backoffice"},
		{ServerFile, x509.ExtKeyUsageServerAuth, "localhost", "anpr-backoffice"},
		{"car-car-1.pem", x509.ExtKeyUsageClientAuth, "", "car-1"},
		{"car-car-2.pem", x509.ExtKeyUsageClientAuth, "", "car-2"},
	} {
		der, err := readPEM(filepath.Join(dir, tc.file), "CERTIFICATE")
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: tc.host, KeyUsages: []x509.ExtKeyUsage{tc.usage}}); err != nil {
			t.Errorf("%s for %s: %v", tc.file, tc.host, err)
		}
		if cert.Subject.CommonName != tc.wantCN {
			t.Errorf("%s CN %q", tc.file, cert.Subject.CommonName)
		}
	}
	// A car certificate cannot serve, and the server's cannot be a car.
	der, _ := readPEM(filepath.Join(dir, "car-car-1.pem"), "CERTIFICATE")
	car, _ := x509.ParseCertificate(der)
	if _, err := car.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("car certificate verifies for serving")
	}
	if _, err := ServerTLS(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "car-car-1.pem"), filepath.Join(dir, "car-car-1-key.pem")); err != nil {
		t.Fatal(err)
	}
	priv, err := SigningKey(filepath.Join(dir, SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := PublicKey(filepath.Join(dir, SigningPubFile))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public().(ed25519.PublicKey)) {
		t.Fatal("public key does not match the signing key")
	}
	if err := Mint(dir, []string{"bad/name"}, now, time.Hour); err == nil {
		t.Fatal("car name with a slash accepted")
	}
}
