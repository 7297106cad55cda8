package cluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// The cluster's private CA and its server certificates, issued with Go's
// crypto/x509. Keys are ECDSA P-256: a key per node costs microseconds to
// make where RSA-2048 costs tens to hundreds of milliseconds on a loaded
// host, handshakes are cheaper, and every peer that speaks TLS here
// accepts it (MariaDB and Percona linked with OpenSSL, Galera's asio,
// socat and stunnel in the SST scripts, Go's crypto/tls). A user-supplied
// CA may use RSA or ECDSA; its server certificates get P-256 keys.

// Certificate lifetimes.
const (
	DefaultCAValidity         = 10 * 365 * 24 * time.Hour
	DefaultServerCertValidity = 365 * 24 * time.Hour
	// certBackdate covers clocks a little behind this machine's.
	certBackdate = 5 * time.Minute
)

// CertificateAuthority is a CA that can sign: its certificate and key.
type CertificateAuthority struct {
	Cert    *x509.Certificate
	CertPEM string
	key     crypto.Signer
}

// NewCA makes a self-signed CA for a cluster, returned as PEM (the key in
// PKCS#8, a secret).
func NewCA(clusterName string, validity time.Duration) (certPEM, keyPEM string, err error) {
	if validity <= 0 {
		validity = DefaultCAValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "pxc cluster " + clusterName + " CA", Organization: []string{"terraform-provider-pxc"}},
		NotBefore:             now.Add(-certBackdate),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("sign CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode CA key: %w", err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

// ParseCA reads a CA certificate and its private key (PEM; PKCS#8, PKCS#1
// or SEC 1) and checks that they belong together and that the
// certificate may sign others. Errors say which of the two is wrong.
func ParseCA(certPEM, keyPEM string) (*CertificateAuthority, error) {
	cert, err := parseCertificate(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca_cert: %w", err)
	}
	if !cert.IsCA || cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("ca_cert: the certificate is not a CA (basic constraints CA:TRUE and the certSign key usage are needed)")
	}
	key, err := parsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ca_key: %w", err)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, errors.New("ca_key does not belong to ca_cert (their public keys differ)")
	}
	return &CertificateAuthority{Cert: cert, CertPEM: certPEM, key: key}, nil
}

// CheckCACertificate checks a CA certificate alone (PEM).
func CheckCACertificate(certPEM string) error {
	_, err := parseCertificate(certPEM)
	return err
}

// ServerNames are what one server certificate is valid for.
type ServerNames struct {
	DNS []string
	IPs []net.IP
}

// nodeServerNames are a node's names: its own name (the library connects
// by it), the cluster's name (every node carries it, so a client behind
// the load balancer verifies any node by one name), the node's address
// (the SST scripts check the joiner's address), and any extra names.
func nodeServerNames(clusterName, nodeName, ip string, extra []string) ServerNames {
	names := ServerNames{DNS: []string{nodeName, clusterName}}
	if a := net.ParseIP(ip); a != nil {
		names.IPs = append(names.IPs, a)
	}
	for _, e := range extra {
		if a := net.ParseIP(e); a != nil {
			names.IPs = append(names.IPs, a)
		} else if e != "" {
			names.DNS = append(names.DNS, e)
		}
	}
	return names
}

// IssueServer issues a server certificate with a fresh P-256 key for the
// names, returned as PEM (the key a secret). It is valid for TLS servers
// and clients alike: Galera and the SST tools present it in both roles.
// It never outlives the CA.
func (ca *CertificateAuthority) IssueServer(commonName string, names ServerNames, validity time.Duration) (certPEM, keyPEM string, err error) {
	if validity <= 0 {
		validity = DefaultServerCertValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate server key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"terraform-provider-pxc"}},
		NotBefore:    now.Add(-certBackdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     names.DNS,
		IPAddresses:  names.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return "", "", fmt.Errorf("sign server certificate for %s: %w", commonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode server key: %w", err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

func parseCertificate(certPEM string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return cert, nil
}

func parsePrivateKey(keyPEM string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	if _, encrypted := block.Headers["DEK-Info"]; encrypted {
		return nil, errors.New("the private key is encrypted; give it unencrypted")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("a %T key cannot sign certificates the servers accept (use ECDSA or RSA)", key)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}
