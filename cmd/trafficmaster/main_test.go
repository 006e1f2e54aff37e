package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/alexedwards/argon2id"
	"github.com/stretchr/testify/require"

	"github.com/trafficmaster/trafficmaster/internal/core"
	"github.com/trafficmaster/trafficmaster/internal/pgtest"
	"github.com/trafficmaster/trafficmaster/internal/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, nil, "", "-h")
	require.NoError(t, err)
	for _, c := range commands() {
		require.Contains(t, out, c.name)
		cout, _, err := runCmd(t, nil, "", c.name, "-h")
		if err != nil {
			require.ErrorContains(t, err, "help requested")
		}
		require.Contains(t, cout, "Usage: trafficmaster "+c.name, c.name)
	}
	_, _, err = runCmd(t, nil, "", "frobnicate")
	require.ErrorContains(t, err, `unknown command "frobnicate"`)
}

func TestServeRefusesBadConfigurationNamingTheVariable(t *testing.T) {
	t.Parallel()
	_, _, err := runCmd(t, map[string]string{}, "", "serve")
	require.Error(t, err)
	for _, v := range []string{"DATABASE_URL", "SECRET_KEY", "WECHAT_COMPONENT_APPID", "WECHAT_COMPONENT_APPSECRET", "WECHAT_COMPONENT_TOKEN", "WECHAT_COMPONENT_AES_KEY"} {
		require.ErrorContains(t, err, v)
	}
	_, _, err = runCmd(t, map[string]string{
		"DATABASE_URL": "postgres://x/y", "SECRET_KEY": "short", "WECHAT_COMPONENT_APPID": "wx1", "WECHAT_COMPONENT_APPSECRET": "s",
		"WECHAT_COMPONENT_TOKEN": "t", "WECHAT_COMPONENT_AES_KEY": "too-short", "WECHAT_API_BASE_URL": "ftp://nope",
	}, "", "serve")
	require.ErrorContains(t, err, "SECRET_KEY: want 32 random bytes")
	require.ErrorContains(t, err, "WECHAT_COMPONENT_AES_KEY: want the 43-character")
	require.ErrorContains(t, err, "WECHAT_API_BASE_URL")
}

func TestUserCommands(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": pgtest.URL(t)}
	out, _, err := runCmd(t, env, "a-very-long-password\n", "user", "create", "-username", "root1", "-role", "admin")
	require.NoError(t, err)
	require.Contains(t, out, "created root1 (admin)")
	requireArgon2id(t, env["DATABASE_URL"], "root1", "a-very-long-password")

	_, _, err = runCmd(t, env, "short\n", "user", "create", "-username", "root2", "-role", "admin")
	require.ErrorContains(t, err, "at least 10")
	_, _, err = runCmd(t, env, "a-very-long-password\n", "user", "create", "-username", "root2", "-role", "god")
	require.ErrorContains(t, err, "Choose a role")
	_, _, err = runCmd(t, env, "", "user", "create", "-username", "root2")
	require.ErrorContains(t, err, "no password")

	out, _, err = runCmd(t, env, "", "user", "disable", "-username", "root1")
	require.NoError(t, err)
	require.Contains(t, out, "disabled root1")
	out, _, err = runCmd(t, env, "", "user", "list")
	require.NoError(t, err)
	require.Regexp(t, `root1\s+admin\s+disabled`, out)
	_, _, err = runCmd(t, env, "", "user", "disable", "-username", "nobody")
	require.ErrorContains(t, err, "not found")
}

// requireArgon2id checks the stored password hash: argon2id (PHC string,
// version 19) with the production parameters, which are not cheap, and a
// random salt, and the password verifies against it.
func requireArgon2id(t *testing.T, dsn, username, password string) {
	t.Helper()
	pool, err := postgres.Open(context.Background(), dsn)
	require.NoError(t, err)
	defer pool.Close()
	var hash string
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT password_hash FROM staff WHERE username = $1", username).Scan(&hash))
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m="), "stored hash %.20s… is not argon2id", hash)
	params, salt, key, err := argon2id.DecodeHash(hash)
	require.NoError(t, err)
	want := core.NewAuthService(nil, nil, nil, nil).Params
	require.Equal(t, *want, *params, "the production parameters")
	require.GreaterOrEqual(t, params.Memory, uint32(19*1024), "at least OWASP's 19 MiB")
	require.GreaterOrEqual(t, params.Iterations, uint32(1))
	require.GreaterOrEqual(t, len(salt), 16)
	require.GreaterOrEqual(t, len(key), 32)
	require.NotContains(t, hash, password)
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	require.NoError(t, err)
	require.True(t, ok)
}
