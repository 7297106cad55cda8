package localcloud

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
)

// Client file names written into the state dir by WriteClientFiles.
const (
	CloudsFile   = "clouds.yaml"
	EnvFile      = "env"
	EndpointFile = "endpoint"
	CloudName    = "local"
)

// yamlQuote quotes a scalar for YAML (single quotes, doubled inside).
func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// shQuote quotes a word for a POSIX shell.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// CloudsYAML renders a clouds.yaml with the cloud "local".
func (c *Cloud) CloudsYAML() string {
	user, pass, project, domain := c.Credentials()
	return fmt.Sprintf(`# Written by localcloud; the password is secret (mode 0600).
clouds:
  %s:
    auth:
      auth_url: %s
      username: %s
      password: %s
      project_name: %s
      user_domain_name: %s
      project_domain_name: %s
    region_name: %s
    interface: public
    identity_api_version: 3
`, CloudName, yamlQuote(c.AuthURL()), yamlQuote(user), yamlQuote(pass), yamlQuote(project),
		yamlQuote(domain), yamlQuote(domain), yamlQuote(c.cfg.Region))
}

// EnvExports renders OS_* exports (and LOCALCLOUD_* facts) for a shell.
func (c *Cloud) EnvExports(cloudsPath string) string {
	user, pass, project, domain := c.Credentials()
	vars := [][2]string{
		{"OS_AUTH_URL", c.AuthURL()},
		{"OS_USERNAME", user},
		{"OS_PASSWORD", pass},
		{"OS_PROJECT_NAME", project},
		{"OS_USER_DOMAIN_NAME", domain},
		{"OS_PROJECT_DOMAIN_NAME", domain},
		{"OS_REGION_NAME", c.cfg.Region},
		{"OS_INTERFACE", "public"},
		{"OS_IDENTITY_API_VERSION", "3"},
		{"OS_CLIENT_CONFIG_FILE", cloudsPath},
		{"OS_CLOUD", CloudName},
		{"LOCALCLOUD_URL", c.URL()},
		{"LOCALCLOUD_ADMIN_URL", c.URL() + "/_admin"},
		{"LOCALCLOUD_NETWORK_ID", c.NetworkID()},
		{"LOCALCLOUD_SUBNET_ID", c.SubnetID()},
		{"LOCALCLOUD_IMAGE_ID", glance.TheImage().ID},
		{"LOCALCLOUD_IMAGE_NAME", glance.TheImage().Name},
		{"LOCALCLOUD_SUBNET_CIDR", c.Store.Network.Subnet().String()},
		{"LOCALCLOUD_GATEWAY", c.Store.Network.Gateway().String()},
		{"LOCALCLOUD_BRIDGE", c.Store.Network.Bridge()},
		// How servers boot: "systemd" (their image) or "none" (init-less hosts).
		{"LOCALCLOUD_SERVER_INIT", c.ServerInit()},
		// Keystone and Swift as the servers reach them (the bridge gateway).
		{"LOCALCLOUD_SERVER_AUTH_URL", c.ObjectStoreURL() + "/identity/v3"},
		{"LOCALCLOUD_PUBLIC_NETWORK_ID", c.St.PublicNetID},
		{"LOCALCLOUD_PUBLIC_SUBNET_CIDR", c.Public.String()},
	}
	var b strings.Builder
	b.WriteString("# Written by localcloud: source it (the password is secret).\n")
	for _, kv := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shQuote(kv[1]))
	}
	return b.String()
}

// WriteClientFiles writes clouds.yaml, env (both 0600) and endpoint (the
// base URL) into dir.
func (c *Cloud) WriteClientFiles(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("write client files: %w", err)
	}
	files := []struct {
		name, body string
		mode       os.FileMode
	}{
		{CloudsFile, c.CloudsYAML(), 0o600},
		{EnvFile, c.EnvExports(filepath.Join(abs, CloudsFile)), 0o600},
		{EndpointFile, c.URL() + "\n", 0o644},
	}
	for _, f := range files {
		tmp := filepath.Join(abs, f.name+".tmp")
		if err := os.WriteFile(tmp, []byte(f.body), f.mode); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if err := os.Chmod(tmp, f.mode); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if err := os.Rename(tmp, filepath.Join(abs, f.name)); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}
