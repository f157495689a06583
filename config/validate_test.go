package config

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// TestValidationRules checks every validation rule: each row breaks one rule
// of an otherwise valid configuration and expects a problem naming the key
// and the fix.
func TestValidationRules(t *testing.T) {
	smtp := map[string]string{
		"smtp.host":         "smtp.example.com",
		"smtp.username":     "reklamacje@example.com",
		"smtp.password_env": "CLAIMSD_SMTP_PASSWORD",
		"smtp.from":         `"Dział Reklamacji <reklamacje@example.com>"`,
	}
	withSMTP := func(over map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range smtp {
			m[k] = v
		}
		for k, v := range over {
			m[k] = v
		}
		return m
	}
	staff := func(entries string) map[string]string { return map[string]string{"staff": entries} }
	// xoauth2 logs in to IMAP with OAuth2 configured by the flow mapping
	// oauth (without braces); /rt holds a refresh token.
	xoauth2 := func(oauth string) map[string]string {
		return map[string]string{"imap.auth": "xoauth2", "imap.oauth2": "{" + oauth + "}"}
	}
	const google = "provider: google, client_id: app, client_secret_env: CLAIMSD_OAUTH2_SECRET, refresh_token_file: /rt"
	rt := map[string]string{"/rt": "1//refresh-Token-Secret\n"}

	tests := []struct {
		name  string
		over  map[string]string
		env   map[string]string
		files map[string]string
		want  string
		// notWant must not appear in the error (secrets).
		notWant string
	}{
		{name: "data_dir required", over: map[string]string{"data_dir": del},
			want: "data_dir: is required; fix: set it to the directory for the case database and control socket, e.g. /var/lib/claimsd"},
		{name: "data_dir blank", over: map[string]string{"data_dir": `"  "`},
			want: "data_dir: is required; fix:"},
		{name: "timezone unknown", over: map[string]string{"timezone": "Europe/Warsw"},
			want: `timezone: unknown time zone "Europe/Warsw"; fix: use an IANA zone name such as Europe/Warsaw or UTC`},
		{name: "case_prefix lower case", over: map[string]string{"case_prefix": "clm"},
			want: `case_prefix: "clm" must be 2 to 10 characters A-Z or 0-9; fix: write it in capitals: CLM`},
		{name: "case_prefix too long", over: map[string]string{"case_prefix": "ABCDEFGHIJK"},
			want: `case_prefix: "ABCDEFGHIJK" must be 2 to 10 characters A-Z or 0-9; fix: use 2 to 10 capital letters A-Z or digits 0-9, e.g. CLM`},
		{name: "case_prefix too short", over: map[string]string{"case_prefix": "C"},
			want: `case_prefix: "C" must be 2 to 10 characters`},
		{name: "case_prefix punctuation", over: map[string]string{"case_prefix": "CL-M"},
			want: `case_prefix: "CL-M" must be 2 to 10 characters A-Z or 0-9; fix: use 2 to 10`},
		{name: "claims_address required", over: map[string]string{"claims_address": del},
			want: "claims_address: is required; fix: set the address customers write to, e.g. reklamacje@example.com"},
		{name: "claims_address invalid", over: map[string]string{"claims_address": "reklamacje"},
			want: `claims_address: "reklamacje" is not a valid e-mail address (missing '@' or angle-addr); fix: write it as name@domain, e.g. reklamacje@example.com`},
		{name: "claims_address display name", over: map[string]string{"claims_address": `"Reklamacje <Reklamacje@Example.com>"`},
			want: `claims_address: "Reklamacje <Reklamacje@Example.com>" has a display name; fix: write only the address: reklamacje@example.com`},
		{name: "own_addresses invalid", over: map[string]string{"own_addresses": "\n  - bok@example.com\n  - bok.example.com"},
			want: `own_addresses[1]: "bok.example.com" is not a valid e-mail address`},
		{name: "own_addresses empty entry", over: map[string]string{"own_addresses": "\n  - \"\""},
			want: "own_addresses[0]: is empty; fix: write an address or remove the entry"},
		{name: "log.level", over: map[string]string{"log.level": "verbose"},
			want: `log.level: "verbose" is not a log level; fix: use debug, info, warn or error`},
		{name: "log.format", over: map[string]string{"log.format": "xml"},
			want: `log.format: "xml" is not a log format; fix: use text or json`},

		{name: "imap.host required", over: map[string]string{"imap.host": del},
			want: "imap.host: is required; fix: set the IMAP server name, e.g. imap.example.com"},
		{name: "imap.host URL", over: map[string]string{"imap.host": "imaps://imap.example.com"},
			want: `imap.host: "imaps://imap.example.com" is a URL, not a host name; fix: write only the server name, e.g. imap.example.com, and set imap.port and imap.security`},
		{name: "imap.host with port", over: map[string]string{"imap.host": "imap.example.com:993"},
			want: `imap.host: "imap.example.com:993" includes a port; fix: write only imap.example.com here and put 993 in imap.port`},
		{name: "imap.host invalid", over: map[string]string{"imap.host": `"imap example.com"`},
			want: `imap.host: "imap example.com" is not a valid host name; fix: write a name such as imap.example.com`},
		{name: "imap.host brackets", over: map[string]string{"imap.host": `"[::1]"`},
			want: `imap.host: "[::1]" is not a valid host name; fix:`},
		{name: "imap.port zero", over: map[string]string{"imap.port": "0"},
			want: "imap.port: 0 is not a valid port; fix: use a port between 1 and 65535, or remove imap.port to use the default for the security mode"},
		{name: "imap.port too big", over: map[string]string{"imap.port": "70000"},
			want: "imap.port: 70000 is not a valid port; fix: use a port between 1 and 65535"},
		{name: "imap.security unknown", over: map[string]string{"imap.security": "ssl"},
			want: `imap.security: "ssl" is not a security mode; fix: use tls (usually port 993), starttls (usually port 143) or none (only for a server on this machine)`},
		{name: "imap.security none remote", over: map[string]string{"imap.security": "none"},
			want: `imap.security: none means no encryption and is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not "imap.example.com"; fix: use tls or starttls`},
		{name: "imap.security none on a LAN address", over: map[string]string{"imap.security": "none", "imap.host": "192.168.1.10"},
			want: `imap.security: none means no encryption and is allowed only for a loopback host`},
		{name: "imap.tls_insecure_skip_verify remote", over: map[string]string{"imap.tls_insecure_skip_verify": "true"},
			want: `imap.tls_insecure_skip_verify: is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not "imap.example.com"; fix: remove it and give the server a certificate this machine trusts`},
		{name: "imap.username required", over: map[string]string{"imap.username": del},
			want: "imap.username: is required; fix: set the login name of the claims mailbox"},
		{name: "imap password both sources", over: map[string]string{"imap.password_file": "/etc/claimsd/imap.pass"},
			want: "imap.password_env: both password_env and password_file are set; fix: keep only one of imap.password_env and imap.password_file"},
		{name: "imap password no source", over: map[string]string{"imap.password_env": del},
			want: "imap.password_env: no password source is set; fix: set imap.password_env to the name of an environment variable holding the password, e.g. CLAIMSD_IMAP_PASSWORD, or imap.password_file to a file containing only the password"},
		{name: "imap.password_env not set", over: map[string]string{"imap.password_env": "CLAIMSD_OTHER"},
			want: "imap.password_env: environment variable CLAIMSD_OTHER is not set; fix: export it or use imap.password_file"},
		{name: "imap.password_env empty", env: map[string]string{"CLAIMSD_IMAP_PASSWORD": ""},
			want: "imap.password_env: environment variable CLAIMSD_IMAP_PASSWORD is empty; fix: put the password in it or use imap.password_file"},
		{name: "imap.password_env holds the password", over: map[string]string{"imap.password_env": `"hunter2!x"`},
			want:    "imap.password_env: is not a valid environment variable name; fix: put the name of a variable here, e.g. CLAIMSD_IMAP_PASSWORD, not the password itself",
			notWant: "hunter2"},
		{name: "imap.password_file missing", over: map[string]string{"imap.password_env": del, "imap.password_file": "/etc/claimsd/imap.pass"},
			want: "imap.password_file: file /etc/claimsd/imap.pass does not exist; fix: create it containing only the password, readable by the user claimsd runs as, or use imap.password_env"},
		{name: "imap.password_file empty", over: map[string]string{"imap.password_env": del, "imap.password_file": "/p"},
			files: map[string]string{"/p": "\n"},
			want:  "imap.password_file: file /p is empty; fix: write the password into it"},
		{name: "imap.password_file two lines", over: map[string]string{"imap.password_env": del, "imap.password_file": "/p"},
			files: map[string]string{"/p": "first-Line-Secret\nsecond\n"},
			want:  "imap.password_file: file /p has more than one line; fix: put only the password in it, on one line", notWant: "first-Line-Secret"},
		{name: "imap.mailbox control characters", over: map[string]string{"imap.mailbox": `"IN\nBOX"`},
			want: "imap.mailbox: contains control characters; fix: write the folder name on one line, e.g. INBOX"},
		{name: "imap.poll_interval too short", over: map[string]string{"imap.poll_interval": "1s"},
			want: "imap.poll_interval: 1s is too short; fix: use at least 5s"},
		{name: "imap.poll_interval zero", over: map[string]string{"imap.poll_interval": "0s"},
			want: "imap.poll_interval: 0s is too short; fix: use at least 5s"},
		{name: "imap.poll_interval negative", over: map[string]string{"imap.poll_interval": "-1m"},
			want: "imap.poll_interval: -1m is too short; fix: use at least 5s"},
		{name: "imap.processed_keyword space", over: map[string]string{"imap.processed_keyword": `"Claimsd Processed"`},
			want: `imap.processed_keyword: "Claimsd Processed" is not a valid IMAP keyword: spaces are not allowed; fix: use letters, digits and characters such as $ _ - . without spaces, e.g. $ClaimsdProcessed`},
		{name: "imap.processed_keyword system flag", over: map[string]string{"imap.processed_keyword": `"\\Seen"`},
			want: `imap.processed_keyword: "\\Seen" is not a valid IMAP keyword: '\\' is not allowed; fix:`},
		{name: "imap.processed_keyword bracket", over: map[string]string{"imap.processed_keyword": `"a]b"`},
			want: `imap.processed_keyword: "a]b" is not a valid IMAP keyword: ']' is not allowed`},
		{name: "imap.processed_keyword non-ASCII", over: map[string]string{"imap.processed_keyword": "Przetworzoną"},
			want: `imap.processed_keyword: "Przetworzoną" is not a valid IMAP keyword: non-ASCII character 'ą' is not allowed`},
		{name: "imap.move_to same as mailbox", over: map[string]string{"imap.move_to": "inbox"},
			want: `imap.move_to: is the same folder as imap.mailbox ("INBOX"); fix: name another folder, e.g. Processed, or remove imap.move_to to leave processed mail where it is`},
		{name: "imap.move_to same as custom mailbox", over: map[string]string{"imap.mailbox": "Reklamacje", "imap.move_to": "Reklamacje"},
			want: `imap.move_to: is the same folder as imap.mailbox ("Reklamacje")`},
		{name: "imap.move_to blank", over: map[string]string{"imap.move_to": `" "`},
			want: "imap.move_to: is blank; fix: name a folder, e.g. Processed, or remove imap.move_to"},
		{name: "imap.move_to control characters", over: map[string]string{"imap.move_to": `"a\tb"`},
			want: "imap.move_to: contains control characters; fix:"},

		{name: "imap.auth unknown", over: map[string]string{"imap.auth": "oauth"},
			want: `imap.auth: "oauth" is not a login method; fix: use password, or xoauth2 for an OAuth2 access token (Gmail, Microsoft 365)`},
		{name: "imap.oauth2 neither provider nor token_url", over: xoauth2("client_id: app, refresh_token_file: /rt"), files: rt,
			want: "imap.oauth2.token_url: is required without a provider; fix: set provider: google or provider: microsoft, or the token endpoint of your OAuth2 server"},
		{name: "imap.oauth2.provider unknown", over: xoauth2("provider: yahoo, client_id: app, refresh_token_file: /rt"), files: rt,
			want: `imap.oauth2.provider: "yahoo" is not a known provider; fix: use google, microsoft, or "" and set token_url and scopes`},
		{name: "imap.oauth2.tenant missing for microsoft", over: xoauth2("provider: microsoft, client_id: app, refresh_token_file: /rt"), files: rt,
			want: "imap.oauth2.tenant: is required with provider microsoft; fix: set the directory (tenant) id or domain"},
		{name: "imap.oauth2.tenant invalid", over: xoauth2("provider: microsoft, tenant: contoso corp, client_id: app, refresh_token_file: /rt"), files: rt,
			want: `imap.oauth2.tenant: "contoso corp" is not a tenant id or domain; fix: copy the Directory (tenant) ID`},
		{name: "imap.oauth2.tenant for google", over: xoauth2(google + ", tenant: contoso.onmicrosoft.com"), files: rt,
			env:  map[string]string{"CLAIMSD_OAUTH2_SECRET": "x"},
			want: "imap.oauth2.tenant: is set but provider is not microsoft; fix: remove it, or set provider: microsoft"},
		{name: "imap.oauth2.token_url plain http", over: xoauth2("token_url: http://auth.example.com/token, client_id: app, refresh_token_file: /rt"), files: rt,
			want: `imap.oauth2.token_url: "http://auth.example.com/token" would send the client secret and refresh token unencrypted; fix: use https (http is allowed only for a loopback host)`},
		{name: "imap.oauth2.token_url not a URL", over: xoauth2("token_url: auth.example.com/token, client_id: app, refresh_token_file: /rt"), files: rt,
			want: `imap.oauth2.token_url: "auth.example.com/token" is not an http(s) URL; fix: write the full address of the token endpoint`},
		{name: "imap.oauth2.scopes two in one", over: xoauth2(`provider: microsoft, tenant: organizations, scopes: ["IMAP.AccessAsUser.All offline_access"], client_id: app, refresh_token_file: /rt`), files: rt,
			want: `imap.oauth2.scopes[0]: "IMAP.AccessAsUser.All offline_access" is not one scope; fix: write each scope as its own list entry`},
		{name: "imap.oauth2.client_id required", over: xoauth2("provider: microsoft, tenant: organizations, refresh_token_file: /rt"), files: rt,
			want: "imap.oauth2.client_id: is required; fix: copy the client (application) id"},
		{name: "imap.oauth2 google without client secret", over: xoauth2("provider: google, client_id: app, refresh_token_file: /rt"), files: rt,
			want: "imap.oauth2.client_secret_env: no client secret source is set; Google requires the client secret; fix: set imap.oauth2.client_secret_env to the name of an environment variable holding it"},
		{name: "imap.oauth2 client secret both sources", over: xoauth2(google + ", client_secret_file: /cs"), files: rt,
			env:  map[string]string{"CLAIMSD_OAUTH2_SECRET": "x"},
			want: "imap.oauth2.client_secret_env: both client_secret_env and client_secret_file are set; fix: keep only one of imap.oauth2.client_secret_env and imap.oauth2.client_secret_file"},
		{name: "imap.oauth2.client_secret_env not set", over: xoauth2(google), files: rt,
			want: "imap.oauth2.client_secret_env: environment variable CLAIMSD_OAUTH2_SECRET is not set; fix: export it or use imap.oauth2.client_secret_file"},
		{name: "imap.oauth2.client_secret_env holds the secret", over: xoauth2("provider: google, client_id: app, client_secret_env: GOCSPX-secret!, refresh_token_file: /rt"), files: rt,
			want:    "imap.oauth2.client_secret_env: is not a valid environment variable name; fix: put the name of a variable here",
			notWant: "GOCSPX"},
		{name: "imap.oauth2.client_secret_file empty", over: xoauth2("provider: microsoft, tenant: organizations, client_id: app, client_secret_file: /cs, refresh_token_file: /rt"),
			files: map[string]string{"/rt": "t", "/cs": ""},
			want:  "imap.oauth2.client_secret_file: file /cs is empty; fix: write the client secret into it"},
		{name: "imap.oauth2.refresh_token_file required", over: xoauth2("provider: microsoft, tenant: organizations, client_id: app"),
			want: "imap.oauth2.refresh_token_file: is required; fix: authorise claimsd for the mailbox once, write the refresh token into a file"},
		{name: "imap.oauth2.refresh_token_file missing", over: xoauth2("provider: microsoft, tenant: organizations, client_id: app, refresh_token_file: /nope"),
			want: "imap.oauth2.refresh_token_file: file /nope does not exist; fix: create it containing only the refresh token, readable by the user claimsd runs as"},
		{name: "imap.oauth2.refresh_token_file two lines", over: xoauth2("provider: microsoft, tenant: organizations, client_id: app, refresh_token_file: /rt"),
			files: map[string]string{"/rt": "first-Refresh-Secret\nsecond\n"},
			want:  "imap.oauth2.refresh_token_file: file /rt has more than one line; fix: put only the refresh token in it, on one line", notWant: "first-Refresh-Secret"},
		{name: "imap.oauth2 problems in key order", over: xoauth2("provider: microsoft"),
			want: "imap.oauth2.tenant: is required with provider microsoft; fix: set the directory (tenant) id or domain the application is registered in, e.g. example.onmicrosoft.com, or organizations for a multi-tenant application\n\timap.oauth2.client_id: is required"},
		{name: "smtp.auth unknown", over: withSMTP(map[string]string{"smtp.auth": "cram-md5"}),
			want: `smtp.auth: "cram-md5" is not a login method; fix: use password, or xoauth2`},
		{name: "smtp xoauth2 without username", over: withSMTP(map[string]string{"smtp.username": del, "smtp.password_env": del, "smtp.auth": "xoauth2",
			"smtp.oauth2": "{provider: microsoft, tenant: organizations, client_id: app, refresh_token_file: /rt}"}), files: rt,
			want: "smtp.username: is required with smtp.auth: xoauth2; fix: set the address claimsd logs in and sends as, e.g. reklamacje@example.com"},
		{name: "smtp.oauth2 checked with xoauth2", over: withSMTP(map[string]string{"smtp.auth": "xoauth2", "smtp.oauth2": "{provider: google, client_id: app, refresh_token_file: /rt}"}), files: rt,
			want: "smtp.oauth2.client_secret_env: no client secret source is set; Google requires the client secret"},

		{name: "smtp.host URL", over: withSMTP(map[string]string{"smtp.host": "smtp://smtp.example.com"}),
			want: `smtp.host: "smtp://smtp.example.com" is a URL, not a host name; fix: write only the server name, e.g. smtp.example.com, and set smtp.port and smtp.security`},
		{name: "smtp.port", over: withSMTP(map[string]string{"smtp.port": "-1"}),
			want: "smtp.port: -1 is not a valid port; fix: use a port between 1 and 65535, or remove smtp.port"},
		{name: "smtp.security unknown", over: withSMTP(map[string]string{"smtp.security": "ssl"}),
			want: `smtp.security: "ssl" is not a security mode; fix: use starttls (usually port 587), tls (usually port 465) or none (only for a server on this machine)`},
		{name: "smtp.security none remote", over: withSMTP(map[string]string{"smtp.security": "none"}),
			want: `smtp.security: none means no encryption and is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not "smtp.example.com"; fix: use tls or starttls`},
		{name: "smtp.tls_insecure_skip_verify remote", over: withSMTP(map[string]string{"smtp.tls_insecure_skip_verify": "true"}),
			want: `smtp.tls_insecure_skip_verify: is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not "smtp.example.com"; fix: remove it`},
		{name: "smtp password without username", over: withSMTP(map[string]string{"smtp.username": del}),
			want: "smtp.username: is empty but a password source is set; fix: set smtp.username, or remove smtp.password_env and smtp.password_file to send without authentication"},
		{name: "smtp username without password", over: withSMTP(map[string]string{"smtp.password_env": del}),
			want: "smtp.password_env: no password source is set; fix: set smtp.password_env to the name of an environment variable holding the password, e.g. CLAIMSD_SMTP_PASSWORD, or smtp.password_file"},
		{name: "smtp.password_env not set", over: withSMTP(nil), env: map[string]string{"CLAIMSD_SMTP_PASSWORD": "\x00unset"},
			want: "smtp.password_env: environment variable CLAIMSD_SMTP_PASSWORD is not set; fix: export it or use smtp.password_file"},
		{name: "smtp password both sources", over: withSMTP(map[string]string{"smtp.password_file": "/p"}),
			want: "smtp.password_env: both password_env and password_file are set; fix: keep only one of smtp.password_env and smtp.password_file"},
		{name: "smtp.from required", over: withSMTP(map[string]string{"smtp.from": del}),
			want: `smtp.from: is required when smtp.host is set; fix: set the sender address, e.g. "Dział Reklamacji <reklamacje@example.com>"`},
		{name: "smtp.from invalid", over: withSMTP(map[string]string{"smtp.from": `"Dział Reklamacji reklamacje@example.com"`}),
			want: `smtp.from: "Dział Reklamacji reklamacje@example.com" is not a valid address (`},

		{name: "staff name required", over: staff("\n  - email: anna@example.com\n    role: specialist"),
			want: "staff[0].name: is required; fix: set the person's name, e.g. Anna Nowak"},
		{name: "staff email required", over: staff("\n  - name: Anna\n    role: specialist"),
			want: "staff[0].email: is required; fix: set the address the person writes from, e.g. anna.nowak@example.com"},
		{name: "staff email invalid", over: staff("\n  - name: Anna\n    email: anna(at)example.com\n    role: specialist"),
			want: `staff[0].email: "anna(at)example.com" is not a valid e-mail address`},
		{name: "staff email display name", over: staff("\n  - name: Anna\n    email: \"Anna <anna@example.com>\"\n    role: specialist"),
			want: `staff[0].email: "Anna <anna@example.com>" has a display name; fix: write only the address: anna@example.com`},
		{name: "staff email duplicate", over: staff("\n  - name: Anna\n    email: anna@example.com\n    role: specialist\n  - name: Anna N\n    email: Anna@Example.COM\n    role: supervisor"),
			want: "staff[1].email: anna@example.com is already listed as staff[0].email; fix: list each person once"},
		{name: "staff email is the claims address", over: staff("\n  - name: Anna\n    email: Reklamacje@example.com\n    role: specialist"),
			want: "staff[0].email: reklamacje@example.com is one of claimsd's own addresses (claims_address); fix: use the person's own mailbox address"},
		{name: "staff email is an alias", over: map[string]string{"own_addresses": "\n  - bok@example.com", "staff": "\n  - name: Anna\n    email: bok@example.com\n    role: specialist"},
			want: "staff[0].email: bok@example.com is one of claimsd's own addresses (own_addresses[0])"},
		{name: "staff email is the smtp sender", over: withSMTP(map[string]string{"smtp.from": "noreply@example.com", "staff": "\n  - name: Anna\n    email: noreply@example.com\n    role: specialist"}),
			want: "staff[0].email: noreply@example.com is one of claimsd's own addresses (smtp.from)"},
		{name: "staff role required", over: staff("\n  - name: Anna\n    email: anna@example.com"),
			want: "staff[0].role: is required; fix: set specialist or supervisor"},
		{name: "staff role unknown", over: staff("\n  - name: Anna\n    email: anna@example.com\n    role: manager"),
			want: `staff[0].role: "manager" is not a role; fix: use specialist or supervisor`},
		{name: "staff null entry", over: staff("\n  -"),
			want: `staff[0]: is an empty entry (line 4); fix: fill it in or remove its "-" line`},
		{name: "deadlines.answer_days zero", over: map[string]string{"deadlines.answer_days": "0"},
			want: "deadlines.answer_days: must be between 1 and 366 days, got 0; fix: use the number of calendar days, e.g. 14"},
		{name: "deadlines.by_category unknown", over: map[string]string{"deadlines.by_category": "[{category: warranty, days: 30}]"},
			want: `deadlines.by_category[0].category: "warranty" is not a case category; fix: use one of non_conformity, guarantee,`},
		{name: "deadlines.by_category twice", over: map[string]string{"deadlines.by_category": "[{category: billing, days: 30}, {category: billing, days: 20}]"},
			want: `deadlines.by_category[1].category: "billing" is listed twice; fix: keep one entry per category`},
		{name: "deadlines.closed_days not a date", over: map[string]string{"deadlines.closed_days": `["31.12.2026"]`},
			want: `deadlines.closed_days[0]: "31.12.2026" is not a date; fix: write dates as YYYY-MM-DD, e.g. 2026-12-31`},
		{name: "deadlines.extra_holidays not a date", over: map[string]string{"deadlines.extra_holidays": `["2026-02-30"]`},
			want: `deadlines.extra_holidays[0]: "2026-02-30" is not a date`},
		{name: "organization.privacy_url relative", over: map[string]string{"organization.privacy_url": "/privacy"},
			want: `organization.privacy_url: "/privacy" is not an http(s) URL; fix: write a full address`},
		{name: "templates.default_language long", over: map[string]string{"templates.default_language": "polish"},
			want: `templates.default_language: "polish" is not a two-letter language code; fix: use pl or en`},
		{name: "auto_mail.max_per_recipient zero", over: map[string]string{"auto_mail.max_per_recipient": "0"},
			want: "auto_mail.max_per_recipient: must be at least 1, got 0; fix: use a small number such as 5; turn acknowledgements off with auto_mail.acknowledge: false"},
		{name: "auto_mail.window tiny", over: map[string]string{"auto_mail.window": "10s"},
			want: "auto_mail.window: must be at least 1m, got 10s; fix: use a duration such as 24h"},
		{name: "outbox.retry_max below initial", over: map[string]string{"outbox.retry_initial": "10m", "outbox.retry_max": "1m"},
			want: "outbox.retry_max: 1m is shorter than outbox.retry_initial (10m); fix: make retry_max at least retry_initial"},
		{name: "working_hours.end before start", over: map[string]string{"working_hours.start": `"16:00"`, "working_hours.end": `"08:00"`},
			want: "working_hours.end: 08:00 is not after working_hours.start 16:00; fix: make end later than start"},
		{name: "working_hours.days unknown", over: map[string]string{"working_hours.days": "[mon, fr]"},
			want: `working_hours.days[1]: "fr" is not a weekday; fix: use mon, tue, wed, thu, fri, sat or sun`},
		{name: "service_level.by_priority unknown", over: map[string]string{"service_level.by_priority": "[{priority: critical, first_answer: 1h}]"},
			want: `service_level.by_priority[0].priority: "critical" is not a priority; fix: use urgent, high or normal`},
		{name: "reminders.close_after without customer_after", over: map[string]string{"reminders.customer_after": "0s", "reminders.close_after": "14d"},
			want: "reminders.close_after: is set but reminders.customer_after is 0; fix: closing follows the customer reminder"},
		{name: "escalation.digest_schedule bad", over: map[string]string{"escalation.digest_schedule": `"every morning"`},
			want: `escalation.digest_schedule: "every morning" is not a cron schedule; fix: write five fields`},
		{name: "threading.subject_window zero", over: map[string]string{"threading.subject_window": "0s"},
			want: "threading.subject_window: must be longer than zero, got 0s; fix: use a duration such as 720h or 30d"},
		{name: "threading.subject_window negative", over: map[string]string{"threading.subject_window": "-24h"},
			want: "threading.subject_window: must be longer than zero, got -24h; fix:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := render(tt.over)
			envMap := map[string]string{}
			for k, v := range tt.env {
				envMap[k] = v
			}
			env := testEnv(envMap)
			lookup := func(name string) (string, bool) {
				v, ok := env(name)
				if v == "\x00unset" {
					return "", false
				}
				return v, ok
			}
			c, err := Parse([]byte(yaml), lookup, testFiles(tt.files))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q\nYAML:\n%s\nconfig:\n%s", tt.want, yaml, c)
			}
			if c != nil {
				t.Errorf("Parse returned a config along with an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not contain\n  %s\ngot:\n  %v\nYAML:\n%s", tt.want, err, yaml)
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error contains %q: %v", tt.notWant, err)
			}
			for _, p := range problemsOf(t, err) {
				if p.Key == "" || (p.Fix == "" && p.Hint == "") {
					t.Errorf("problem without key or fix: %#v", p)
				}
			}
		})
	}
}

// TestValidationCollectsAllProblems checks that every problem is reported at
// once, in key order, not only the first.
func TestValidationCollectsAllProblems(t *testing.T) {
	yaml := `
case_prefix: x
log:
  level: loud
imap:
  host: imap.example.com:993
  security: none
  poll_interval: 1s
staff:
  - name: Anna
    email: anna@example.com
    role: boss
  - name: Anna
    email: ANNA@example.com
    role: specialist
`
	_, err := Parse([]byte(yaml), testEnv(nil), testFiles(nil))
	problems := problemsOf(t, err)
	var keys []string
	for _, p := range problems {
		keys = append(keys, p.Key)
	}
	want := []string{
		"data_dir", "case_prefix", "claims_address", "log.level", "imap.host",
		"imap.username", "imap.password_env", "imap.poll_interval",
		"staff[0].role", "staff[1].email",
	}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("problem keys\n got %v\nwant %v\nerror:\n%v", keys, want, err)
	}
	if !strings.HasPrefix(err.Error(), "config: 10 problems:\n\tdata_dir: is required; fix:") {
		t.Errorf("error does not start with the header and first problem:\n%v", err)
	}
	var p Problem
	if !errors.As(err, &p) || p.Key != "data_dir" {
		t.Errorf("errors.As(err, *Problem) = %v, want the data_dir problem", p)
	}
}

// TestPasswordFileErrors checks the messages for unreadable password files.
func TestPasswordFileErrors(t *testing.T) {
	yaml := render(map[string]string{"imap.password_env": del, "imap.password_file": "/run/secrets/imap"})
	tests := []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/run/secrets/imap", Err: fs.ErrPermission},
			"imap.password_file: cannot read /run/secrets/imap: permission denied; fix: make it readable by the user claimsd runs as, e.g. chown claimsd and chmod 600"},
		{errors.New("read /run/secrets/imap: is a directory"),
			"imap.password_file: cannot read /run/secrets/imap: read /run/secrets/imap: is a directory; fix: make it a readable file containing only the password, or use imap.password_env"},
	}
	for _, tt := range tests {
		read := func(string) ([]byte, error) { return nil, tt.err }
		_, err := Parse([]byte(yaml), testEnv(nil), read)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v\nwant it to contain %q", err, tt.want)
		}
	}
}

// TestLoopbackAllowsPlainAndInsecure checks that security none and skipped
// certificate checks are accepted for every loopback form.
func TestLoopbackAllowsPlainAndInsecure(t *testing.T) {
	for _, host := range []string{"localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.1.2.3", "::1", `"::1"`} {
		for _, section := range []string{"imap", "smtp"} {
			over := map[string]string{
				section + ".host":                     host,
				section + ".security":                 "none",
				section + ".tls_insecure_skip_verify": "true",
			}
			if section == "smtp" {
				over["smtp.from"] = "reklamacje@example.com"
			}
			c := mustParse(t, render(over))
			if section == "imap" && c.IMAP.Port != 143 {
				t.Errorf("imap on %s with security none: port %d, want 143", host, c.IMAP.Port)
			}
			if section == "smtp" && c.SMTP.Port != 25 {
				t.Errorf("smtp on %s with security none: port %d, want 25", host, c.SMTP.Port)
			}
		}
	}
}

// TestSMTPSkippedWithoutHost checks that the smtp section is not validated
// while its host is empty.
func TestSMTPSkippedWithoutHost(t *testing.T) {
	c := mustParse(t, render(map[string]string{
		"smtp.security":     "bogus",
		"smtp.password_env": "NOT_SET_ANYWHERE",
		"smtp.from":         "noreply@example.com",
	}))
	if c.SMTP.Password != "" {
		t.Errorf("SMTP password resolved without a host")
	}
	if !c.IsOwnAddress("noreply@example.com") {
		t.Errorf("smtp.from is not an own address when smtp.host is empty")
	}
}

// TestSMTPWithoutAuth checks that an empty smtp.username means no password
// is needed.
func TestSMTPWithoutAuth(t *testing.T) {
	c := mustParse(t, render(map[string]string{
		"smtp.host":     "localhost",
		"smtp.security": "none",
		"smtp.from":     "noreply@example.com",
	}))
	if c.SMTP.Username != "" || c.SMTP.Password != "" {
		t.Errorf("SMTP credentials = %q/%q, want none", c.SMTP.Username, c.SMTP.Password)
	}
}

// TestEmptyStaffAllowed checks that a configuration without staff is valid.
func TestEmptyStaffAllowed(t *testing.T) {
	c := mustParse(t, render(map[string]string{"staff": "[]"}))
	if len(c.Staff) != 0 {
		t.Errorf("Staff = %v, want empty", c.Staff)
	}
}

// TestHostValidation checks validHost directly.
func TestHostValidation(t *testing.T) {
	good := []string{"imap.example.com", "localhost", "mail", "192.0.2.1", "::1", "2001:db8::1", "a-b.example.com.", "xn--dzia-reklamacji-9kb.pl", "mail_1.example.com"}
	bad := []string{"", "-a.example.com", "a-.example.com", "a..b", "a b", "[::1]", "mail/x", strings.Repeat("a", 64) + ".com"}
	for _, h := range good {
		if !validHost(h) {
			t.Errorf("validHost(%q) = false, want true", h)
		}
	}
	for _, h := range bad {
		if validHost(h) {
			t.Errorf("validHost(%q) = true, want false", h)
		}
	}
}
