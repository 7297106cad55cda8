package openstack

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

// Microversions this package speaks. A cloud must support at least these.
const (
	// ComputeMicroversion: 2.64 brings server groups with a single `policy`
	// (and soft-anti-affinity rules); tags on create need 2.52.
	ComputeMicroversion = "2.64"
	// BlockStorageMicroversion: 3.42 allows extending an in-use volume.
	BlockStorageMicroversion = "3.42"
)

// Service types as used in the catalog and as keys of Config.EndpointOverrides.
const (
	ServiceCompute      = "compute"
	ServiceBlockStorage = "block-storage"
	ServiceNetwork      = "network"
	ServiceLoadBalancer = "load-balancer"
	ServiceImage        = "image"
)

// Config says how to reach and authenticate to an OpenStack cloud. It mirrors
// the provider attributes; every field is optional and empty means "not set".
// Values here win over the clouds.yaml entry named by Cloud.
type Config struct {
	Cloud   string // entry in clouds.yaml (OS_CLIENT_CONFIG_FILE or the usual search path)
	AuthURL string
	Region  string

	UserName string
	UserID   string
	Password string
	Token    string

	ProjectName string // also known as tenant name
	ProjectID   string // also known as tenant id

	UserDomainName    string
	UserDomainID      string
	ProjectDomainName string
	ProjectDomainID   string
	DomainName        string
	DomainID          string
	// DefaultDomain is used for the user and project domain when none is
	// given and a user or project is named; empty means "default".
	DefaultDomain string

	ApplicationCredentialID     string
	ApplicationCredentialName   string
	ApplicationCredentialSecret string

	Insecure   *bool  // nil: take clouds.yaml `verify`, else verify
	CACertFile string // path or PEM contents
	ClientCert string // path or PEM contents
	ClientKey  string // path or PEM contents

	// EndpointType is public, internal or admin (a trailing "URL" is accepted).
	EndpointType string
	// EndpointOverrides maps a service type (compute, block-storage or
	// volumev3, network, load-balancer, image) to a URL used instead of the
	// catalog, or to another catalog service type. A URL must be the full
	// versioned base (e.g. http://host:9696/v2.0/).
	EndpointOverrides map[string]string

	// MaxRetries bounds retries of 429/502/503/504 answers. 0 disables them.
	MaxRetries int

	UserAgent string
}

// Validate checks the settings that need no network and no files: conflicts
// and values out of range. Missing credentials are not an error here; they
// are reported when the cloud is first needed.
func (c Config) Validate() error {
	var errs []error
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("max_retries must be 0 or more, got %d", c.MaxRetries))
	}
	if _, err := availability(c.EndpointType); err != nil {
		errs = append(errs, err)
	}
	if c.Password != "" && c.Token != "" {
		errs = append(errs, errors.New("password and token are mutually exclusive: authenticate with one of them"))
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		errs = append(errs, errors.New("cert and key must be set together"))
	}
	if c.ApplicationCredentialSecret != "" && c.ApplicationCredentialID == "" && c.ApplicationCredentialName == "" {
		errs = append(errs, errors.New("application_credential_secret needs application_credential_id or application_credential_name"))
	}
	for k := range c.EndpointOverrides {
		if _, ok := overrideKeys[k]; !ok {
			errs = append(errs, fmt.Errorf("endpoint_overrides: unknown service %q (known: compute, block-storage, volumev3, network, load-balancer, image)", k))
		}
	}
	return errors.Join(errs...)
}

var overrideKeys = map[string]string{
	ServiceCompute:      ServiceCompute,
	ServiceBlockStorage: ServiceBlockStorage,
	"volumev3":          ServiceBlockStorage,
	ServiceNetwork:      ServiceNetwork,
	ServiceLoadBalancer: ServiceLoadBalancer,
	ServiceImage:        ServiceImage,
}

// override returns the endpoint override for a service type, if any.
func (c Config) override(service string) string {
	for k, v := range c.EndpointOverrides {
		if overrideKeys[k] == service && v != "" {
			return v
		}
	}
	return ""
}

func availability(endpointType string) (gophercloud.Availability, error) {
	switch strings.TrimSuffix(strings.ToLower(endpointType), "url") {
	case "", "public":
		return gophercloud.AvailabilityPublic, nil
	case "internal":
		return gophercloud.AvailabilityInternal, nil
	case "admin":
		return gophercloud.AvailabilityAdmin, nil
	}
	return "", fmt.Errorf("endpoint_type %q is not one of public, internal, admin", endpointType)
}

// Resolved is a Config merged with its clouds.yaml entry: what authentication
// will actually use.
type Resolved struct {
	Auth     gophercloud.AuthOptions
	Endpoint gophercloud.EndpointOpts
	TLS      *tls.Config
}

// Resolve merges the config with the clouds.yaml entry named by Cloud (if
// any) and reads certificate files. It does no network I/O.
func (c Config) Resolve() (Resolved, error) {
	if err := c.Validate(); err != nil {
		return Resolved{}, err
	}
	var r Resolved
	if c.Cloud != "" {
		ao, eo, tlsCfg, err := clouds.Parse(c.cloudOptions()...)
		if err != nil {
			return Resolved{}, fmt.Errorf("read cloud %q from clouds.yaml: %w", c.Cloud, err)
		}
		r.Auth, r.Endpoint, r.TLS = ao, eo, tlsCfg
	} else {
		r.Auth = c.authOptions()
		r.TLS = &tls.Config{}
	}
	if c.Region != "" {
		r.Endpoint.Region = c.Region
	}
	if c.EndpointType != "" || r.Endpoint.Availability == "" {
		av, err := availability(c.EndpointType)
		if err != nil {
			return Resolved{}, err
		}
		r.Endpoint.Availability = av
	}
	r.Auth.AllowReauth = r.Auth.TokenID == ""
	if err := c.applyTLS(r.TLS); err != nil {
		return Resolved{}, err
	}
	return r, nil
}

// cloudOptions passes explicit settings to clouds.Parse so they win over the
// clouds.yaml entry.
func (c Config) cloudOptions() []clouds.ParseOption {
	opts := []clouds.ParseOption{clouds.WithCloudName(c.Cloud)}
	add := func(v string, f func(string) clouds.ParseOption) {
		if v != "" {
			opts = append(opts, f(v))
		}
	}
	add(c.AuthURL, clouds.WithIdentityEndpoint)
	add(c.Region, clouds.WithRegion)
	add(c.UserName, clouds.WithUsername)
	add(c.UserID, clouds.WithUserID)
	add(c.Password, clouds.WithPassword)
	add(c.Token, clouds.WithToken)
	add(c.ProjectName, clouds.WithProjectName)
	add(c.ProjectID, clouds.WithProjectID)
	add(c.DomainName, clouds.WithDomainName)
	add(c.DomainID, clouds.WithDomainID)
	add(c.ApplicationCredentialID, clouds.WithApplicationCredentialID)
	add(c.ApplicationCredentialName, clouds.WithApplicationCredentialName)
	add(c.ApplicationCredentialSecret, clouds.WithApplicationCredentialSecret)
	add(c.EndpointType, clouds.WithEndpointType)
	return opts
}

func (c Config) authOptions() gophercloud.AuthOptions {
	defaultDomain := coalesce(c.DefaultDomain, "default")
	ao := gophercloud.AuthOptions{
		IdentityEndpoint:            c.AuthURL,
		Username:                    c.UserName,
		UserID:                      c.UserID,
		Password:                    c.Password,
		TokenID:                     c.Token,
		ApplicationCredentialID:     c.ApplicationCredentialID,
		ApplicationCredentialName:   c.ApplicationCredentialName,
		ApplicationCredentialSecret: c.ApplicationCredentialSecret,
	}
	// A user named by name needs a domain; an id is globally unique.
	if c.UserName != "" || (c.ApplicationCredentialName != "" && c.UserID == "") {
		ao.DomainID = coalesce(c.UserDomainID, c.DomainID)
		ao.DomainName = coalesce(c.UserDomainName, c.DomainName)
		if ao.DomainID == "" && ao.DomainName == "" {
			ao.DomainID = defaultDomain
		}
	}
	// Application credentials carry their own scope.
	if c.ApplicationCredentialID != "" || c.ApplicationCredentialName != "" {
		return ao
	}
	switch {
	case c.ProjectID != "":
		ao.Scope = &gophercloud.AuthScope{ProjectID: c.ProjectID}
	case c.ProjectName != "":
		s := &gophercloud.AuthScope{
			ProjectName: c.ProjectName,
			DomainID:    coalesce(c.ProjectDomainID, c.DomainID),
			DomainName:  coalesce(c.ProjectDomainName, c.DomainName),
		}
		if s.DomainID == "" && s.DomainName == "" {
			s.DomainID = defaultDomain
		}
		ao.Scope = s
	case c.DomainID != "":
		ao.Scope = &gophercloud.AuthScope{DomainID: c.DomainID}
	case c.DomainName != "":
		ao.Scope = &gophercloud.AuthScope{DomainName: c.DomainName}
	}
	return ao
}

// applyTLS lays explicit TLS settings over what clouds.yaml gave.
func (c Config) applyTLS(t *tls.Config) error {
	if c.Insecure != nil {
		t.InsecureSkipVerify = *c.Insecure
	}
	if c.CACertFile != "" {
		pem, err := pathOrContents(c.CACertFile)
		if err != nil {
			return fmt.Errorf("read cacert_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return errors.New("cacert_file holds no PEM certificate")
		}
		t.RootCAs = pool
	}
	if c.ClientCert != "" && c.ClientKey != "" {
		certPEM, err := pathOrContents(c.ClientCert)
		if err != nil {
			return fmt.Errorf("read cert: %w", err)
		}
		keyPEM, err := pathOrContents(c.ClientKey)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// The error of X509KeyPair never includes key material.
			return fmt.Errorf("load client certificate and key: %w", err)
		}
		t.Certificates = []tls.Certificate{pair}
	}
	return nil
}

// pathOrContents returns v itself when it is PEM text, else the file it names.
func pathOrContents(v string) ([]byte, error) {
	if strings.Contains(v, "-----BEGIN ") {
		return []byte(v), nil
	}
	if strings.HasPrefix(v, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		v = home + v[1:]
	}
	return os.ReadFile(v)
}

func coalesce(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
