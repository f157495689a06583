package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"
)

// TestExampleParses checks that the embedded example is a valid
// configuration with the values it documents.
func TestExampleParses(t *testing.T) {
	c, err := Parse(Example(), testEnv(nil), testFiles(nil))
	if err != nil {
		t.Fatalf("Example() does not parse: %v", err)
	}
	if c.DataDir != "/var/lib/claimsd" || c.Timezone != "Europe/Warsaw" || c.CasePrefix != "CLM" ||
		c.ClaimsAddress != "reklamacje@example.com" {
		t.Errorf("top level: %s", c)
	}
	if c.IMAP.Host != "imap.example.com" || c.IMAP.Port != 993 || c.IMAP.Security != "tls" ||
		c.IMAP.PasswordEnv != "CLAIMSD_IMAP_PASSWORD" || c.IMAP.Password != "imap-Secret-123" {
		t.Errorf("imap: %v", c.IMAP)
	}
	if c.SMTP.Host != "smtp.example.com" || c.SMTP.Port != 587 || c.SMTP.Security != "starttls" ||
		c.SMTP.Password != "smtp-Secret-456" || c.SMTP.From != "Dział Reklamacji <reklamacje@example.com>" {
		t.Errorf("smtp: %v", c.SMTP)
	}
	want := []Staff{
		{Name: "Anna Nowak", Email: "anna.nowak@example.com", Role: RoleSpecialist},
		{Name: "Piotr Wiśniewski", Email: "piotr.wisniewski@example.com", Role: RoleSupervisor},
	}
	if !reflect.DeepEqual(c.Staff, want) {
		t.Errorf("staff = %+v", c.Staff)
	}
	if c.Threading.SubjectWindow.Duration != 720*time.Hour {
		t.Errorf("subject_window = %v", c.Threading.SubjectWindow)
	}
}

// TestExampleHasEveryKey checks that example.yaml sets every key of Config,
// so that it stays complete as keys are added.
func TestExampleHasEveryKey(t *testing.T) {
	_, present, problems := decode(Example())
	if len(problems) > 0 {
		t.Fatalf("decode: %v", problems)
	}
	for _, key := range schemaKeys("", reflect.TypeFor[Config]()) {
		if !present[key] {
			t.Errorf("example.yaml does not set %s", key)
		}
	}
}

// schemaKeys lists the dotted paths of all leaf keys under struct type t,
// with [0] for the first entry of lists of mappings.
func schemaKeys(prefix string, t reflect.Type) []string {
	var keys []string
	names, types := fieldsOf(t)
	for _, name := range names {
		ft, path := types[name], childPath(prefix, name)
		switch {
		case isLeaf(ft):
			keys = append(keys, path)
		case ft.Kind() == reflect.Struct:
			keys = append(keys, schemaKeys(path, ft)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && !isLeaf(ft.Elem()):
			keys = append(keys, schemaKeys(path+"[0]", ft.Elem())...)
		default:
			keys = append(keys, path+"[0]")
		}
	}
	return keys
}

// TestExampleMatchesFile checks that Example returns example.yaml and that
// callers cannot change it.
func TestExampleMatchesFile(t *testing.T) {
	disk, err := os.ReadFile("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := Example()
	if !bytes.Equal(e, disk) {
		t.Errorf("Example() differs from example.yaml")
	}
	e[0] = '!'
	if !bytes.Equal(Example(), disk) {
		t.Errorf("changing Example()'s result changed the example")
	}
}

// ExampleParse shows parsing with secrets from a map instead of the process
// environment.
func ExampleParse() {
	env := map[string]string{"CLAIMSD_IMAP_PASSWORD": "secret", "CLAIMSD_SMTP_PASSWORD": "secret"}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	c, err := Parse(Example(), lookup, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.DBPath(), c.IMAP.Host, c.IMAP.Port, c.IMAP.UseIDLE())
	// Output: /var/lib/claimsd/claimsd.db imap.example.com 993 true
}

// ExampleParse_problems shows the error for a configuration with mistakes.
func ExampleParse_problems() {
	_, err := Parse([]byte(`
data_dir: /var/lib/claimsd
claims_address: reklamacje@example.com
imap:
  host: imap.example.com
  username: reklamacje@example.com
  password_env: CLAIMSD_IMAP_PASSWORD
  poll_interval: 1s
`), func(string) (string, bool) { return "", false }, nil)
	fmt.Println(err)
	// Output:
	// config: 2 problems:
	// 	imap.password_env: environment variable CLAIMSD_IMAP_PASSWORD is not set; fix: export it or use imap.password_file
	// 	imap.poll_interval: 1s is too short; fix: use at least 5s
}
