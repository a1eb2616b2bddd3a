// Command provider is a real OpenID Connect provider for gitward's web UI tests.
//
// It serves zitadel/oidc's OpenID Provider (authorization code with PKCE, discovery,
// JWKS, signed ID tokens) with the library's example storage and login page, and adds
// what the tests need: a listener on 127.0.0.1 only, users from a JSON file, one
// confidential web client, and "email" and "groups" claims in the ID token when the
// "groups" scope is asked for (the example storage has no groups).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

type account struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Email    string   `json:"email"`
	Groups   []string `json:"groups"`
}

type withGroups struct {
	*storage.Storage
	groups map[string][]string // by user id
	emails map[string]string
}

func (s withGroups) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	if slices.Contains(scopes, "groups") {
		info.AppendClaims("groups", s.groups[token.GetSubject()])
		info.AppendClaims("email", s.emails[token.GetSubject()])
	}
	return nil
}

// GetClientByClientID returns clients that accept the "groups" scope (the example's
// clients drop every scope but the standard ones and its own custom one).
func (s withGroups) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	client, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return groupsClient{client}, nil
}

type groupsClient struct{ op.Client }

func (c groupsClient) IsScopeAllowed(scope string) bool {
	return scope == "groups" || c.Client.IsScopeAllowed(scope)
}

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (the issuer URL names it, so it is fixed)")
	users := flag.String("users", "", "JSON list of {username, password, email, groups}")
	clientID := flag.String("client-id", "gitward", "the web client's id")
	secretFile := flag.String("client-secret-file", "", "file holding the web client's secret")
	redirect := flag.String("redirect-uri", "", "the web client's redirect URI")
	flag.Parse()
	if err := run(*port, *users, *clientID, *secretFile, *redirect); err != nil {
		fmt.Fprintln(os.Stderr, "provider:", err)
		os.Exit(1)
	}
}

func run(port int, usersFile, clientID, secretFile, redirect string) error {
	raw, err := os.ReadFile(usersFile)
	if err != nil {
		return err
	}
	var accounts []account
	if err := json.Unmarshal(raw, &accounts); err != nil {
		return fmt.Errorf("%s: %w", usersFile, err)
	}
	secret, err := os.ReadFile(secretFile)
	if err != nil {
		return err
	}
	users := map[string]*storage.User{}
	wrapped := withGroups{groups: map[string][]string{}, emails: map[string]string{}}
	for i, a := range accounts {
		id := fmt.Sprintf("user%d", i+1)
		users[id] = &storage.User{
			ID: id, Username: a.Username, Password: a.Password, Email: a.Email,
			EmailVerified: true, PreferredLanguage: language.English,
		}
		wrapped.groups[id], wrapped.emails[id] = a.Groups, a.Email
	}
	// The example storage reads users from a JSON file of its own shape.
	store, err := userStore(users)
	if err != nil {
		return err
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d/", port)
	storage.RegisterClients(storage.WebClient(clientID, string(secret), redirect))
	wrapped.Storage = storage.NewStorage(store)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	router := exampleop.SetupServer(issuer, wrapped, logger, false)
	server := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), Handler: router}
	logger.Info("listening", "issuer", issuer)
	return server.ListenAndServe()
}

func userStore(users map[string]*storage.User) (storage.UserStore, error) {
	dir, err := os.MkdirTemp("", "oidc-users")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "users.json")
	raw, err := json.Marshal(users)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return nil, err
	}
	return storage.StoreFromFile(path)
}
