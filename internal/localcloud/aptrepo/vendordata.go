package aptrepo

import "fmt"

// VendorData is the cloud-config that makes the mirror at url a guest's
// only apt source, as a cloud's vendor-data points its images at the
// cloud's own mirror (cloud-init's apt module rewrites sources.list at
// first boot). Only the suite and component the mirror has are listed:
// the default template's -updates, -backports and -security lines would
// fail every apt-get update with 404s.
func VendorData(url string) string {
	return fmt.Sprintf(`#cloud-config
# written by the local cloud: its package mirror is the guests' apt source
apt:
  preserve_sources_list: false
  primary:
    - arches: [default]
      uri: %s
  sources_list: |
    deb $MIRROR $RELEASE %s
`, url, Component)
}
