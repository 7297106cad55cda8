package cluster

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

func TestNewCAIssuesVerifiableServerCertificates(t *testing.T) {
	certPEM, keyPEM, err := NewCA("ledger", 0)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := ParseCA(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ca.Cert.PublicKey.(*ecdsa.PublicKey); !ok || !ca.Cert.IsCA {
		t.Fatalf("CA: %T, IsCA %v", ca.Cert.PublicKey, ca.Cert.IsCA)
	}
	sc, sk, err := ca.IssueServer("ledger-2", nodeServerNames("ledger", "ledger-2", "10.210.0.12", []string{"db.example.com", "203.0.113.7"}), 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := parseCertificate(sc)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, name := range []string{"ledger-2", "ledger", "10.210.0.12", "db.example.com", "203.0.113.7"} {
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("certificate does not verify for %s (%v): %v", name, usage, err)
			}
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "ledger-3"}); err == nil {
		t.Error("ledger-2's certificate verifies as ledger-3")
	}
	if d := time.Until(cert.NotAfter); d > 31*24*time.Hour || d < 29*24*time.Hour {
		t.Errorf("validity ends in %s, want 30 days", d)
	}
	key, err := parsePrivateKey(sk)
	if err != nil || !publicKeysEqual(cert.PublicKey, key.Public()) {
		t.Errorf("server key does not match its certificate: %v", err)
	}
	// Never beyond the CA.
	sc, _, err = ca.IssueServer("ledger-1", nodeServerNames("ledger", "ledger-1", "10.210.0.11", nil), 100*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if cert, _ := parseCertificate(sc); cert.NotAfter.After(ca.Cert.NotAfter) {
		t.Errorf("server certificate outlives its CA")
	}
}

// A user-supplied CA is checked before anything is made, and every error
// names ca_cert or ca_key.
func TestParseCARefusesBadInput(t *testing.T) {
	certPEM, keyPEM, err := NewCA("a", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, _ := NewCA("b", 0)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaCA := selfSigned(t, rsaKey, true)
	leaf := selfSigned(t, rsaKey, false)
	rsaKeyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	cases := map[string]struct{ cert, key, want string }{
		"garbage cert":  {"hello", keyPEM, "ca_cert: not a PEM certificate"},
		"key as cert":   {keyPEM, keyPEM, "ca_cert: not a PEM certificate"},
		"garbage key":   {certPEM, "hello", "ca_key: not a PEM private key"},
		"cert as key":   {certPEM, certPEM, `ca_key: PEM block "CERTIFICATE" is not a private key`},
		"other key":     {certPEM, otherKey, "ca_key does not belong to ca_cert"},
		"not a CA":      {leaf, rsaKeyPEM, "ca_cert: the certificate is not a CA"},
		"truncated PEM": {certPEM[:len(certPEM)/2], keyPEM, "ca_cert"},
	}
	for name, tc := range cases {
		if _, err := ParseCA(tc.cert, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if _, err := ParseCA(rsaCA, rsaKeyPEM); err != nil {
		t.Errorf("an RSA CA (PKCS#1 key) was refused: %v", err)
	}
}

func selfSigned(t *testing.T, key *rsa.PrivateKey, isCA bool) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "user CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestCheckTLS(t *testing.T) {
	maria := Datastore{Type: "mariadb", Version: "10.11"}
	certPEM, keyPEM, _ := NewCA("a", 0)
	for name, tc := range map[string]struct {
		d    Datastore
		sst  string
		spec TLSSpec
		want string
	}{
		"default":         {maria, "rsync", TLSSpec{}, ""},
		"user CA":         {maria, "", TLSSpec{Mode: TLSPreferred, CACert: certPEM, CAKey: keyPEM}, ""},
		"cert alone":      {maria, "", TLSSpec{CACert: certPEM}, "ca_cert and ca_key go together"},
		"bad mode":        {maria, "", TLSSpec{Mode: "optional"}, `tls.mode "optional"`},
		"pxc 5.7 rsync":   {Datastore{Type: "percona", Version: "5.7"}, "rsync", TLSSpec{}, "rsync SST cannot encrypt"},
		"pxc 5.7 plain":   {Datastore{Type: "percona", Version: "5.7"}, "rsync", TLSSpec{Mode: TLSDisabled}, ""},
		"bad server name": {maria, "", TLSSpec{ServerNames: []string{"a b"}}, "tls.server_names"},
	} {
		err := CheckTLS(tc.d, tc.sst, tc.spec)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// A new cluster is encrypted by default: a CA is generated and kept on the
// cluster (key a secret), the guests get its bundle and an issuer whose
// certificates name each node and verify against it.
func TestCreateGeneratesCAAndIssuesPerNode(t *testing.T) {
	r := newRig()
	c, err := r.m.Create(testContext(t), testSpec())
	if err != nil {
		t.Fatal(err)
	}
	if c.CACertificate == "" || c.GeneratedCAKey == "" {
		t.Fatalf("no CA kept: cert %d bytes, key %d bytes", len(c.CACertificate), len(c.GeneratedCAKey))
	}
	if _, err := ParseCA(c.CACertificate, c.GeneratedCAKey); err != nil {
		t.Fatal(err)
	}
	gs := r.guests.specs[0]
	if gs.TLS == nil || gs.TLS.Mode != guest.TLSRequired || gs.TLS.CABundle != c.CACertificate || gs.TLS.Issue == nil {
		t.Fatalf("guest TLS = %+v", gs.TLS)
	}
	n := gs.Nodes[1]
	files, err := gs.TLS.Issue(n)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := parseCertificate(files.Cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(files.CA))
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: n.Name}); err != nil {
		t.Errorf("%s's certificate: %v", n.Name, err)
	}
	if !cert.IPAddresses[0].Equal(net.ParseIP(n.Address)) {
		t.Errorf("%s's certificate names %v, want %s", n.Name, cert.IPAddresses, n.Address)
	}

	// A user's CA is used as given, and no key is generated.
	r = newRig()
	certPEM, keyPEM, _ := NewCA("mine", 0)
	spec := testSpec()
	spec.TLS = TLSSpec{Mode: TLSPreferred, CACert: certPEM, CAKey: keyPEM}
	if c, err = r.m.Create(testContext(t), spec); err != nil {
		t.Fatal(err)
	}
	if c.CACertificate != certPEM || c.GeneratedCAKey != "" || r.guests.specs[0].TLS.Mode != guest.TLSPreferred {
		t.Errorf("user CA: cert kept %v, generated key %v, mode %s", c.CACertificate == certPEM, c.GeneratedCAKey != "", r.guests.specs[0].TLS.Mode)
	}

	// Disabled: no CA at all.
	r = newRig()
	spec = testSpec()
	spec.TLS = TLSSpec{Mode: TLSDisabled}
	if c, err = r.m.Create(testContext(t), spec); err != nil {
		t.Fatal(err)
	}
	if c.CACertificate != "" || c.GeneratedCAKey != "" || r.guests.specs[0].TLS.Mode != guest.TLSDisabled {
		t.Errorf("disabled: %+v", r.guests.specs[0].TLS)
	}
}

// The mode the guests run is what the servers recorded; servers recorded
// before TLS existed are plain; only a create takes the spec's.
func TestEffectiveTLSMode(t *testing.T) {
	spec := testSpec()
	for _, tc := range []struct {
		name      string
		requested Requested
		spec      string
		want      string
	}{
		{"create, default", Requested{}, "", TLSRequired},
		{"create, preferred", Requested{}, TLSPreferred, TLSPreferred},
		{"recorded", Requested{NodeCount: 3, TLSMode: TLSPreferred}, TLSRequired, TLSPreferred},
		{"made before TLS", Requested{NodeCount: 3}, TLSRequired, TLSDisabled},
	} {
		spec.TLS.Mode = tc.spec
		if got := effectiveTLSMode(spec, &Cluster{Requested: tc.requested}); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParseCARefusesEncryptedKey(t *testing.T) {
	certPEM, _, _ := NewCA("a", 0)
	encrypted := "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END EC PRIVATE KEY-----\n"
	if _, err := ParseCA(certPEM, encrypted); err == nil || !strings.Contains(err.Error(), "ca_key: the private key is encrypted") {
		t.Errorf("encrypted key: %v", err)
	}
}
