package openstack

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// AuthFailure classifies why authentication failed, so the provider can say
// what to do about it.
type AuthFailure string

// Classes of authentication failure.
const (
	AuthNotConfigured AuthFailure = "not configured"        // no auth_url / cloud
	AuthConfigInvalid AuthFailure = "configuration invalid" // clouds.yaml, certificates
	AuthUnreachable   AuthFailure = "identity endpoint unreachable"
	AuthTLS           AuthFailure = "TLS error"
	AuthRejected      AuthFailure = "authentication failed" // 401
	AuthForbidden     AuthFailure = "access forbidden"      // 403
	AuthOther         AuthFailure = "unexpected error"
)

// AuthError is returned by every call that needs the cloud when the one-time
// authentication failed. It never contains credentials.
type AuthError struct {
	Failure AuthFailure
	URL     string // identity endpoint, empty when not configured
	Err     error
}

func (e *AuthError) Error() string {
	where := e.URL
	if where == "" {
		where = "(no auth_url)"
	}
	return fmt.Sprintf("authenticate to OpenStack at %s: %s: %v", where, e.Failure, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// ServiceMissingError says the catalog has no endpoint for a service.
type ServiceMissingError struct {
	Service   string // catalog type, e.g. load-balancer
	Region    string
	Interface string
}

func (e *ServiceMissingError) Error() string {
	region := e.Region
	if region == "" {
		region = "any region"
	}
	return fmt.Sprintf("the service catalog has no %s endpoint (interface %s, %s): the cloud does not offer this service to this project, or endpoint_overrides must point at it",
		e.Service, e.Interface, region)
}

// ErrNotFound is wrapped by helpers that look an object up by name or id and
// find nothing.
var ErrNotFound = errors.New("not found")

// IsNotFound reports whether err means the object does not exist (a 404 from
// the API or ErrNotFound from a lookup).
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || gophercloud.ResponseCodeIs(err, http.StatusNotFound)
}

// IsConflict reports whether the API answered 409.
func IsConflict(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusConflict)
}

// classifyAuth turns an error from authentication into an AuthError.
func classifyAuth(url string, err error) *AuthError {
	return &AuthError{Failure: authFailureOf(err), URL: url, Err: err}
}

func authFailureOf(err error) AuthFailure {
	switch {
	case gophercloud.ResponseCodeIs(err, http.StatusUnauthorized):
		return AuthRejected
	case gophercloud.ResponseCodeIs(err, http.StatusForbidden):
		return AuthForbidden
	case isTLSError(err):
		return AuthTLS
	case isNetError(err):
		return AuthUnreachable
	}
	return AuthOther
}

func isTLSError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		recordHeader     tls.RecordHeaderError
		alert            tls.AlertError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verification) || errors.As(err, &recordHeader) || errors.As(err, &alert) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tls: ") || strings.Contains(msg, "x509: ") ||
		strings.Contains(msg, "server gave HTTP response to HTTPS client")
}

func isNetError(err error) bool {
	var (
		opErr  *net.OpError
		dnsErr *net.DNSError
		netErr net.Error
	)
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &netErr)
}

// isEndpointNotFound reports whether gophercloud found no catalog entry.
func isEndpointNotFound(err error) bool {
	var p *gophercloud.ErrEndpointNotFound
	var v gophercloud.ErrEndpointNotFound
	return errors.As(err, &p) || errors.As(err, &v)
}
