package provider

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// A server whose console never shows the host key fingerprints (the local
// cloud's hide-fingerprints: neither cloud-init's block nor the one the
// boot user data prints reaches the console log) ends the apply within
// ssh.host_key_timeout, not timeouts.create, with what to check; while it
// waits, INFO lines say so; destroy leaves nothing (issue 17 item 1).
func TestAccClusterHostKeyWaitIsBounded(t *testing.T) {
	lc := requireLocalCloud(t)
	logPath := t.TempDir() + "/info.log"
	t.Setenv("TF_LOG", "INFO")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	name := "acchk-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	lc.admin(t, http.MethodPost, "/console/hide-fingerprints", map[string]any{"name_prefix": name + "-"})
	config := lc.accClusterConfig(name, `
  ssh = {
    host_key_timeout = "45s"
  }
`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(lc.checkNothingLeftOf(t, name), func(*terraform.State) error {
			log, err := os.ReadFile(logPath)
			if err != nil {
				return err
			}
			re := regexp.MustCompile(regexp.QuoteMeta(name) + `-[123]: no host key fingerprints on the console yet, \d+(\.\d)?s`)
			lines := re.FindAll(log, -1)
			if len(lines) == 0 {
				return fmt.Errorf("no INFO progress line while waiting for the fingerprints in %s", logPath)
			}
			t.Logf("%d progress lines, first: %s", len(lines), lines[0])
			if !strings.Contains(string(log), "[INFO]") {
				return fmt.Errorf("the log has no INFO lines")
			}
			return nil
		}),
		Steps: []resource.TestStep{{
			Config: config,
			ExpectError: regexp.MustCompile(`(?s)Cluster Create Failed In Phase Host Keys.*on\s+node\s+` + name +
				`-[123].*no SSH host key fingerprints on the console.*after\s+45s\s+\(ssh.host_key_timeout\).*cloud-init.*ssh.host_key_check\s+=\s+"known_hosts"`),
		}},
	})
}
