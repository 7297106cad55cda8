package guest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// PackageRepository is an apt repository Prepare adds before it installs
// packages, as an operator adds Percona's (Debian does not carry Percona
// XtraDB Cluster): its signing key in /etc/apt/keyrings and a sources
// entry that trusts only that key for it.
type PackageRepository struct {
	// URL is the repository's root, e.g. http://repo.percona.com/pxc-80/apt.
	URL string
	// Key is the ASCII-armored OpenPGP public key that signs it.
	Key string
	// Suite is the distribution; empty: the guest's own codename
	// (VERSION_CODENAME of /etc/os-release), as Percona publishes per
	// Debian and Ubuntu release.
	Suite string
	// Components default to main.
	Components []string
}

// Where the repository's key and sources entry go on the guest.
const (
	repositoryKeyFile     = "/etc/apt/keyrings/pxc-provider-repository.asc"
	repositorySourcesFile = "/etc/apt/sources.list.d/pxc-provider-repository.list"
)

// PerconaRepositoryURL is the default repository of a Percona version.
func PerconaRepositoryURL(version string) string {
	if version == "5.7" {
		return "http://repo.percona.com/pxc-57/apt"
	}
	return "http://repo.percona.com/pxc-80/apt"
}

var (
	aptWordRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)
	armoredKey = regexp.MustCompile(`(?s)^\s*-----BEGIN PGP PUBLIC KEY BLOCK-----\n.*\n-----END PGP PUBLIC KEY BLOCK-----\s*$`)
	// Armor is printable ASCII; none of its lines can end the script's
	// here-document, whose delimiter has an underscore armor never has.
	armorLinesRe = regexp.MustCompile(`^(?:[ -^\x60-~]*\r?\n)*[ -^\x60-~]*$`)
)

// ValidatePackageRepository checks what goes into the guest's apt sources:
// an http(s) URL, an ASCII-armored public key, and suite and components
// that are single words.
func ValidatePackageRepository(r PackageRepository) error {
	var errs []string
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(r.URL, " \t\n\"'") {
		errs = append(errs, fmt.Sprintf("url %q is not an http or https URL", r.URL))
	}
	if !armoredKey.MatchString(r.Key) || !armorLinesRe.MatchString(strings.TrimSpace(r.Key)) {
		errs = append(errs, "key is not an ASCII-armored OpenPGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----, printable ASCII lines)")
	}
	if r.Suite != "" && !aptWordRe.MatchString(r.Suite) {
		errs = append(errs, fmt.Sprintf("suite %q: use letters, digits, '.', '_', '-' or '/'", r.Suite))
	}
	for _, c := range r.Components {
		if !aptWordRe.MatchString(c) {
			errs = append(errs, fmt.Sprintf("component %q: use letters, digits, '.', '_', '-' or '/'", c))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("package repository: %s", strings.Join(errs, "; "))
	}
	return nil
}

// script writes the key and the sources entry (quoted here-documents: the
// validated values are written as they are).
func (r PackageRepository) script() string {
	suite := r.Suite
	if suite == "" {
		suite = "$(. /etc/os-release && echo \"$VERSION_CODENAME\")"
	}
	comps := r.Components
	if len(comps) == 0 {
		comps = []string{"main"}
	}
	return fmt.Sprintf(`install -d -m 755 /etc/apt/keyrings
cat > %[1]s <<'PXC_KEY'
%[2]s
PXC_KEY
chmod 644 %[1]s
echo "deb [signed-by=%[1]s] %[3]s %[4]s %[5]s" > %[6]s
`, repositoryKeyFile, strings.TrimSpace(r.Key), r.URL, suite, strings.Join(comps, " "), repositorySourcesFile)
}
