package guest

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// stubShell runs scripts in a local bash whose PATH starts with stub tools
// (findmnt, blockdev, df, mount, umount, xfs_growfs, resize2fs) that log their arguments,
// so the grow script's choice of tool is executed, not only read.
type stubShell struct {
	dir string
	log string
}

func newStubShell(t *testing.T, fstype, resize2fsStderr string) *stubShell {
	t.Helper()
	dir := t.TempDir()
	s := &stubShell{dir: dir, log: filepath.Join(dir, "calls")}
	stubs := map[string]string{
		"findmnt":    `case "$*" in *FSTYPE*) echo ` + fstype + ` ;; esac`,
		"blockdev":   `echo 2147483648`,
		"df":         `printf '  Size\n2130706432\n'`,
		"xfs_growfs": `:`,
		"mount":      `:`,
		"umount":     `:`,
		"resize2fs":  `if [ -n "` + resize2fsStderr + `" ]; then echo "` + resize2fsStderr + `" >&2; exit 1; fi`,
	}
	for name, body := range stubs {
		script := "#!/bin/sh\necho " + name + ` "$@" >> ` + s.log + "\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "vdb"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *stubShell) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	// The data volume here is a plain file standing in for a block device.
	cmd = strings.ReplaceAll(cmd, "[ -b ", "[ -e ")
	cmd = strings.ReplaceAll(cmd, stubDevice, filepath.Join(s.dir, "vdb"))
	c := exec.CommandContext(ctx, "bash", "-c", cmd)
	c.Env = append(os.Environ(), "PATH="+s.dir+":"+os.Getenv("PATH"))
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out, &CommandError{Command: cmd, ExitCode: exit.ExitCode(), Stderr: stderr.String()}
	}
	return out, err
}

// stubDevice is the data volume's device in the spec; stubShell maps it
// to a file.
const stubDevice = "/dev/pxc-stub-vdb"

func (s *stubShell) Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	return errors.New("no uploads here")
}

func (s *stubShell) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errors.New("no dialing here")
}

func (s *stubShell) calls(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(s.log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func growWith(t *testing.T, s *stubShell) (int64, error) {
	t.Helper()
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	for i := range spec.Nodes {
		spec.Nodes[i].Runner = s
		spec.Nodes[i].DataVolume = DataVolume{Device: stubDevice}
	}
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c.GrowFilesystem(context.Background(), "db2", 2<<30)
}

// XFS grows with xfs_growfs on a private second mount of the volume (not
// the datadir, whose first mount-table entry may be a bind), unmounted
// after; never resize2fs.
func TestGrowFilesystemXFS(t *testing.T) {
	s := newStubShell(t, "xfs", "")
	size, err := growWith(t, s)
	if err != nil || size != 2130706432 {
		t.Fatalf("size %d, %v", size, err)
	}
	calls := s.calls(t)
	m := regexp.MustCompile(`(?m)^mount -t xfs -o noatime \S+/vdb (/tmp/pxc-growfs\.\w+)\nxfs_growfs (\S+)\n(?:.*\n)*?umount (\S+)\n`).FindStringSubmatch(calls)
	if m == nil || m[1] != m[2] || m[1] != m[3] || strings.Contains(calls, "resize2fs") {
		t.Errorf("calls:\n%s", calls)
	}
	if m != nil {
		if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", m[1], err)
		}
	}
}

// An ext4 volume made before XFS still grows with resize2fs on its device.
func TestGrowFilesystemExt4(t *testing.T) {
	s := newStubShell(t, "ext4", "")
	if _, err := growWith(t, s); err != nil {
		t.Fatal(err)
	}
	calls := s.calls(t)
	if !strings.Contains(calls, "resize2fs "+filepath.Join(s.dir, "vdb")+"\n") || strings.Contains(calls, "xfs_growfs") {
		t.Errorf("calls:\n%s", calls)
	}
}

// resize2fs refused for want of CAP_SYS_RESOURCE says so.
func TestGrowFilesystemExt4WithoutCapability(t *testing.T) {
	s := newStubShell(t, "ext4", "resize2fs: Permission denied to resize filesystem")
	_, err := growWith(t, s)
	if err == nil || !strings.Contains(err.Error(), "CAP_SYS_RESOURCE") {
		t.Fatalf("error %v", err)
	}
}

// Any other filesystem is refused by name, without trying a tool.
func TestGrowFilesystemOtherType(t *testing.T) {
	s := newStubShell(t, "btrfs", "")
	_, err := growWith(t, s)
	if err == nil || !strings.Contains(err.Error(), "btrfs") {
		t.Fatalf("error %v", err)
	}
	if calls := s.calls(t); strings.Contains(calls, "xfs_growfs") || strings.Contains(calls, "resize2fs") {
		t.Errorf("calls:\n%s", calls)
	}
}
