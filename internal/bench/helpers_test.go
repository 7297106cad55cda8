package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	must(t, err)
	for !fileExists(filepath.Join(dir, "go.mod")) {
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	return dir
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// tfEnv is the environment for the terraform CLI: the built provider via
// dev_overrides, no prompts.
func tfEnv(work string, extra ...string) []string {
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+filepath.Join(work, "terraformrc"), "TF_IN_AUTOMATION=1",
		"TF_APPEND_USER_AGENT="+benchAgent)
	return append(env, extra...)
}

func run(ctx context.Context, t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// destroy runs terraform destroy once; later calls do nothing (the bench
// destroys explicitly to count it, and on the way out in case it failed
// before).
func destroy(t *testing.T, tfCLI, work string, done *bool) {
	if *done {
		return
	}
	*done = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tfCLI, "destroy", "-auto-approve", "-input=false", "-no-color", "-var=allowed_cidrs=[]")
	cmd.Dir = work
	cmd.Env = tfEnv(work)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("terraform destroy: %v\n%s", err, out)
	}
}

func consoleOutput(ctx context.Context, t *testing.T, serverID string) string {
	t.Helper()
	cl, err := openstack.NewClient(openstack.Config{
		AuthURL: os.Getenv("OS_AUTH_URL"), UserName: os.Getenv("OS_USERNAME"), Password: os.Getenv("OS_PASSWORD"),
		ProjectName: os.Getenv("OS_PROJECT_NAME"), UserDomainName: os.Getenv("OS_USER_DOMAIN_NAME"),
		ProjectDomainName: os.Getenv("OS_PROJECT_DOMAIN_NAME"), Region: os.Getenv("OS_REGION_NAME"), MaxRetries: 3,
	})
	must(t, err)
	out, err := cl.ConsoleOutput(ctx, serverID, 0)
	must(t, err)
	return out
}

func newKey(t *testing.T) (ssh.Signer, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	must(t, err)
	sshPub, err := ssh.NewPublicKey(pub)
	must(t, err)
	return signer, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
}

// runExit runs a command whose exit code 2 means "not empty" (terraform
// plan -detailed-exitcode): it returns "" for exit 0, the output for exit 2,
// and fails the test on anything else.
func runExit(ctx context.Context, t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil {
		return ""
	}
	if exit, ok := err.(*exec.ExitError); ok && exit.ExitCode() == 2 {
		return string(out)
	}
	t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	return ""
}
