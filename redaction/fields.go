package redaction

import "strings"

// keyKind is what a key name says about its value.
type keyKind uint8

const (
	keyNone keyKind = iota
	keyAPIKey
	keyPassword
	keyPwd // like keyPassword, but PWD=/home/x (a shell variable) is a path
	keyAzure
	keyAuthorization
	keyPassBare // "pass" alone: only pass=..., "pass": ..., --pass ..., and not a count (pass=12)
	keyBare     // "key", "token", "secret", "auth" alone: only with a random-looking one-word value
)

func (k keyKind) class() class {
	switch k {
	case keyAzure:
		return clsAzure
	case keyPassword, keyPwd, keyPassBare:
		return clsPassword
	}
	return clsAPIKey
}

var (
	azureSuffixes  = []string{"subscriptionkey", "accountkey", "sharedaccesskey"}
	apiKeySuffixes = []string{
		"apikey", "secretkey", "secretaccesskey", "privatekey",
		"accesstoken", "refreshtoken", "authtoken", "apitoken", "sessiontoken", "bearertoken", "secrettoken",
		"clientsecret", "apisecret", "appsecret", "consumersecret",
	}
	passwordSuffixes = []string{"password", "passwd", "passphrase", "passwort", "kennwort"}
)

// classifyKey matches a key name case-insensitively and regardless of
// separators (api_key, API-KEY, apiKey, x-api-key, OPENAI_API_KEY,
// spring.datasource.password) by its ending.
func classifyKey(key string) keyKind {
	for len(key) > 0 && (key[0] == '-' || key[0] == '.') {
		key = key[1:]
	}
	if len(key) == 7 && strings.EqualFold(key, "api-key") {
		return keyAzure // the Azure OpenAI header
	}
	var buf [64]byte
	n, comp := 0, 0 // comp: where the last word of the key starts in buf
	var sep byte    // what starts the last word: '_', '-', '.', or 'A' for a capital
	for i := 0; i < len(key) && n < len(buf); i++ {
		c := key[i]
		f := tab[c]
		switch {
		case f&fAlnum == 0:
			comp, sep = n, c
			continue
		case f&fUpper != 0:
			if i > 0 && tab[key[i-1]]&fLower != 0 {
				comp, sep = n, 'A'
			}
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	sq := string(buf[:n]) // short, on the stack in practice
	last := sq[comp:]
	switch {
	case strings.HasSuffix(sq, "authorization"):
		return keyAuthorization
	case hasAnySuffix(sq, azureSuffixes), strings.Contains(sq, "azure") && strings.HasSuffix(sq, "key"):
		return keyAzure
	case hasAnySuffix(sq, apiKeySuffixes), last == "secret" && comp > 0:
		return keyAPIKey
	case hasAnySuffix(sq, passwordSuffixes), last == "pass" && comp > 0 && sep != '-': // db_pass, not two-pass
		return keyPassword
	case last == "pwd":
		return keyPwd
	case sq == "pass":
		return keyPassBare
	case sq == "key" || sq == "token" || sq == "secret" || sq == "auth":
		return keyBare
	}
	return keyNone
}

func knownKeyTail(a, b, c byte) bool {
	t := uint32(a|0x20)<<16 | uint32(b|0x20)<<8 | uint32(c|0x20)
	switch t {
	case 'o'<<16 | 'r'<<8 | 'd', 's'<<16 | 'w'<<8 | 'd', 'p'<<16 | 'w'<<8 | 'd', 'a'<<16 | 's'<<8 | 'e',
		'i'<<16 | 'o'<<8 | 'n', 'k'<<16 | 'e'<<8 | 'n', 'a'<<16 | 's'<<8 | 's', 'r'<<16 | 'e'<<8 | 't', 'k'<<16 | 'e'<<8 | 'y',
		'u'<<16 | 't'<<8 | 'h', 'o'<<16 | 'r'<<8 | 't':
		return true
	}
	return false
}

// isPlainAPIKey: api_key, apiKey, API-KEY, "api_key" - no prefix naming
// another service.
func isPlainAPIKey(key string) bool {
	key = strings.Trim(key, "-.\"'")
	n := 0
	for i := 0; i < len(key); i++ {
		if tab[key[i]]&fAlnum == 0 {
			continue
		}
		if n >= 6 || key[i]|0x20 != "apikey"[n] {
			return false
		}
		n++
	}
	return n == 6
}

func hasAnySuffix(s string, suffixes []string) bool {
	if s == "" {
		return false
	}
	last := s[len(s)-1]
	for _, x := range suffixes {
		if x[len(x)-1] == last && strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// field: a key=value / key: value / key := value / key => value pair whose
// key names a secret. The key stays; the value is the candidate.
func (sc *scanner) field(i int) {
	s := sc.s
	n := len(s)
	sepEnd := i + 1
	if s[i] == '=' {
		if i > 0 && strings.IndexByte("=!<>:", s[i-1]) >= 0 {
			return // ==, !=, <=, >=; := is handled at ':'
		}
		if i+1 < n && s[i+1] == '=' {
			return
		}
		if i+1 < n && s[i+1] == '>' {
			sepEnd = i + 2
		}
	} else {
		if (i+1 < n && s[i+1] == ':') || (i > 0 && s[i-1] == ':') {
			return // :: paths
		}
		if i+1 < n && s[i+1] == '=' {
			sepEnd = i + 2
		}
		if i+2 < n && s[i+1] == '/' && s[i+2] == '/' {
			return // scheme://
		}
	}
	// Walk back over what may close a key: spaces, ** (markdown bold),
	// ] (headers["x-api-key"]), a quote and its escaping backslash.
	k := i
	for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') {
		k--
	}
	for d := 0; d < 2 && k > 0 && s[k-1] == '*'; d++ {
		k--
	}
	if k > 1 && s[k-1] == ']' && isQuote(s[k-2]) {
		k-- // headers["x-api-key"] = ...; a bare ] closes one of our markers
	} else if k > 1 && s[k-1] == ']' {
		// aws configure's "AWS Secret Access Key [None]: " prompt: skip the
		// bracketed default when a space separates it from the label.
		if b := strings.LastIndexByte(s[max(0, k-40):k-1], '['); b >= 0 {
			if b += max(0, k-40); b > 1 && s[b-1] == ' ' && tab[s[b-2]]&fAlnum != 0 && !isMarkerAt(s, b) {
				k = b - 1
			}
		}
	}
	quoted := false
	if k > 0 && isQuote(s[k-1]) {
		k--
		quoted = true
		if k > 0 && s[k-1] == '\\' {
			k--
		}
	}
	if s[i] == '=' && k >= 5 && hasPrefixFold(s, k-5, "value") && (k == 5 || tab[s[k-6]]&fKey == 0) {
		sc.appSetting(i, k-5)
		return
	}
	// Every key name we know ends in one of a few three-letter tails
	// (passWORD, PWD, passphRASE, authorizaTION, toKEN, db_PASS, secRET,
	// api_KEY, AUTH, passwORT): a cheap filter for the other colons and equals signs.
	if k < 3 || !knownKeyTail(s[k-3], s[k-2], s[k-1]) {
		return
	}
	ke := k
	for k > 0 && ke-k < 64 && tab[s[k-1]]&fKey != 0 {
		k--
	}
	if k > 0 && s[k-1] == '\\' && k+1 < ke && isEscapeLetter(s[k]) {
		k++ // "\npassword: ..." in JSON-escaped text
	}
	if k >= 3 && s[k-3:k] == "://" {
		return // scheme://user:password@ is userinfo's
	}
	if k >= 2 && s[k-2:k] == "${" {
		return // ${DB_PASSWORD:-default}: a shell default, not a field
	}
	kind := classifyKey(s[k:ke])
	// Labels of two or three words: "API Key: ...", "Client Secret: ...",
	// "AWS Secret Access Key [None]: ..." (aws configure).
	for k2, words := k, 1; (kind == keyNone || kind == keyBare) && words < 3 && k2 >= 2 && s[k2-1] == ' ' && tab[s[k2-2]]&fAlnum != 0; words++ {
		k2--
		for k2 > 0 && ke-k2 < 64 && tab[s[k2-1]]&fKey != 0 {
			k2--
		}
		if more := classifyKey(s[k2:ke]); more != keyNone && more != keyBare && more != keyPassBare {
			k, kind = k2, more
		}
	}
	switch kind {
	case keyNone:
		return
	case keyPassBare:
		if s[i] != '=' && !quoted {
			return // "Tests pass: 5"
		}
	}
	// A key at the start of a line with ':' (YAML, headers) or ' = ' (INI)
	// owns the rest of the line; elsewhere the value is one token.
	lineMode := false
	if sepEnd == i+1 && (s[i] == ':' || (i+1 < n && s[i+1] == ' ')) {
		lineMode = atLineStart(s, k, quoted)
	}
	sc.fieldValue(sepEnd, kind, lineMode, k, ke)
}

// callArg: a secret passed by name to a call, the key and the value both
// string literals: props.put("password", "x"), os.Setenv("API_KEY", "x"),
// Header.Set("X-Api-Key", "x"). The opening '(' tells it from a list of
// field names such as ["username", "password", "email"].
func (sc *scanner) callArg(i int) {
	s := sc.s
	k := i
	for k > 0 && s[k-1] == ' ' {
		k--
	}
	if k < 5 || !isQuote(s[k-1]) || !knownKeyTail(s[k-4], s[k-3], s[k-2]) {
		return
	}
	q := s[k-1]
	ke := k - 1
	ks := ke
	for ks > 0 && ke-ks < 64 && tab[s[ks-1]]&fKey != 0 {
		ks--
	}
	if ks == 0 || s[ks-1] != q {
		return
	}
	p := ks - 1
	for p > 0 && s[p-1] == ' ' {
		p--
	}
	if p < 2 || s[p-1] != '(' || (tab[s[p-2]]&fAlnum == 0 && s[p-2] != '_') {
		return // a call's first argument, not a tuple of names
	}
	kind := classifyKey(s[ks:ke])
	if kind == keyNone || kind == keyAuthorization {
		return
	}
	v := i + 1
	for v < len(s) && s[v] == ' ' {
		v++
	}
	if v < len(s) && isQuote(s[v]) {
		sc.fieldValue(v, kind, false, ks, ke)
	}
}

// setter: a secret given to a setter or builder as a string literal:
// setPassword("x"), withApiKey("x"), .password("x"), set_api_key("x").
func (sc *scanner) setter(i int) {
	s := sc.s
	if i < 3 || i+1 >= len(s) || !isQuote(s[i+1]) || !(knownKeyTail(s[i-3], s[i-2], s[i-1]) || hasPrefixFold(s, i-3, "ial")) {
		return
	}
	ks := i
	for ks > 0 && i-ks < 64 && (tab[s[ks-1]]&fAlnum != 0 || s[ks-1] == '_') {
		ks--
	}
	if ks > 0 && s[ks-1] == '\\' && ks+1 < i && isEscapeLetter(s[ks]) {
		ks++ // "\nsetApiKey(" in JSON-escaped text
	}
	name := s[ks:i]
	if len(name) > 13 && strings.EqualFold(name[len(name)-13:], "keycredential") {
		// AzureKeyCredential("..."), ApiKeyCredential("...")
		kind := keyAPIKey
		if hasPrefixFold(name, 0, "azure") {
			kind = keyAzure
		}
		sc.fieldValue(i+1, kind, false, ks, i)
		return
	}
	switch {
	case hasPrefixFold(name, 0, "set") && len(name) > 3:
		name = name[3:]
	case hasPrefixFold(name, 0, "with") && len(name) > 4:
		name = name[4:]
	case ks > 0 && s[ks-1] == '.':
	default:
		return
	}
	kind := classifyKey(name)
	if kind == keyNone || kind == keyAuthorization || kind == keyBare || kind == keyPassBare {
		return
	}
	sc.fieldValue(i+1, kind, false, ks, i)
}

// appSetting: .NET and similar XML settings name the secret in one
// attribute and hold it in another: <add key="ApiKey" value="..."/>,
// <param name="password" value="..."/>.
func (sc *scanner) appSetting(i, valueAttr int) {
	s := sc.s
	lo := max(0, valueAttr-1024)
	lt := strings.LastIndexByte(s[lo:valueAttr], '<')
	if lt < 0 {
		return
	}
	tag := s[lo+lt : valueAttr]
	if strings.IndexByte(tag, '>') >= 0 {
		return
	}
	for _, attr := range []string{` key="`, ` name="`, ` key='`, ` name='`} {
		a := indexFold(tag, attr)
		if a < 0 {
			continue
		}
		name := tag[a+len(attr):]
		if q := strings.IndexByte(name, attr[len(attr)-1]); q >= 0 {
			name = name[:q]
		}
		if strings.IndexByte(name, '[') >= 0 {
			return // key="[REDACTED_PRIVATE_KEY]" names nothing
		}
		kind := classifyKey(name)
		if kind != keyNone && kind != keyBare && kind != keyAuthorization {
			sc.fieldValue(i+1, kind, false, valueAttr, valueAttr+5)
		}
		return
	}
}

func indexFold(s, lower string) int {
	for i := 0; i+len(lower) <= len(s); i++ {
		if hasPrefixFold(s, i, lower) {
			return i
		}
	}
	return -1
}

// indentOf returns the leading blanks of the line holding k (up to 256).
// Blanks are never redacted, so the answer is the same on a second pass.
func (sc *scanner) indentOf(k int) int {
	ls := sc.lineStart(k)
	n := 0
	for ls+n < len(sc.s) && n < 256 && (sc.s[ls+n] == ' ' || sc.s[ls+n] == '\t') {
		n++
	}
	return n
}

func atLineStart(s string, k int, quotedKey bool) bool {
	if quotedKey && k > 0 && isQuote(s[k-1]) {
		k--
	}
	for k > 0 && strings.IndexByte(" \t-#*>/", s[k-1]) >= 0 {
		k--
	}
	return k == 0 || s[k-1] == '\n' || s[k-1] == '\r' || (k >= 2 && s[k-1] == 'n' && s[k-2] == '\\')
}

// fieldValue finds the value starting at v (after optional blanks) and adds
// it as a candidate of the key's class when it looks like a real value.
// The key is s[keyStart:keyEnd].
func (sc *scanner) fieldValue(v int, kind keyKind, lineMode bool, keyStart, keyEnd int) {
	s := sc.s
	if kind != keyAuthorization && !sc.on[kind.class()] {
		return
	}
	start, end, quoted, ok := sc.parseValue(v, lineMode)
	if !ok {
		return
	}
	val := s[start:end]
	if quoted && val != "" && strings.IndexByte(")]},;", val[0]) >= 0 {
		return // input("Enter password: ") - the quote closes the string around the key
	}
	if lineMode && !quoted && isBlockIndicator(val) {
		if end < sc.blockEnd {
			return // inside a block already taken whole
		}
		start, end = yamlBlock(s, end, sc.indentOf(keyStart))
		sc.blockEnd = end
		if start < end && sc.valueOK(start, end, true) && bareOK(kind, s[start:end]) {
			sc.add(start, end, kind.class())
		}
		return
	}
	switch kind {
	case keyAuthorization:
		sc.authorization(start, end)
		return
	case keyPassBare, keyBare:
		if !bareOK(kind, val) {
			return
		}
	case keyPwd:
		if val != "" && (strings.IndexByte("/~.", val[0]) >= 0 || (len(val) > 2 && val[1] == ':' && val[2] == '\\')) {
			return // PWD=/home/user is the working directory
		}
	}
	if !sc.valueOK(start, end, quoted) || (!quoted && (isCodeRef(val, s[keyStart:keyEnd]) || isCodeOperand(s, keyStart, val, end))) {
		return
	}
	cls := kind.class()
	if cls == clsAPIKey && sc.on[clsAzure] && isPlainAPIKey(s[keyStart:keyEnd]) &&
		(sc.lineHas(keyStart, cmdAzure) || sc.lineHas(keyStart, cmdAzureTitle) || sc.lineHas(keyStart, cmdAzureUpper)) {
		cls = clsAzure
	}
	sc.add(start, end, cls)
}

// authorization: the credentials of an Authorization header other than
// Bearer (which bearer_token handles): Basic user:password is a password,
// any other scheme (Token, ApiKey, AWS4-HMAC-SHA256 ...) an API key.
func (sc *scanner) authorization(start, end int) {
	s := sc.s
	w := start
	for w < end && tab[s[w]]&fKey != 0 {
		w++
	}
	scheme := s[start:w]
	c := w
	for c < end && (s[c] == ' ' || s[c] == '\t') {
		c++
	}
	switch {
	case strings.EqualFold(scheme, "bearer"):
		return
	case c == w || c == end: // one word: the credential itself
		if w == end && sc.on[clsAPIKey] && tokenish(scheme, 12) {
			sc.add(start, end, clsAPIKey)
		}
	case strings.EqualFold(scheme, "basic"):
		if sc.on[clsPassword] && sc.valueOK(c, end, true) {
			sc.add(c, end, clsPassword)
		}
	case strings.IndexByte(strings.TrimRight(s[c:end], "="), '=') >= 0:
		return // Digest, AWS4-HMAC-SHA256: name=value parameters, left to the other rules
	default: // Token, ApiKey, Negotiate ...: one credential word, not prose
		if cred := s[c:end]; sc.on[clsAPIKey] && sc.valueOK(c, end, true) && strings.IndexAny(cred, " \t") < 0 && tokenish(cred[:min(len(cred), 256)], 8) {
			sc.add(c, end, clsAPIKey)
		}
	}
}

// isValueEnd: bytes that end an unquoted one-token value.
func isValueEnd(c byte) bool {
	return isSpace(c) || strings.IndexByte("\"'`,;&)]}<>\\|", c) >= 0
}

// parseValue finds the value after v: a quoted string (also Python f/b/r
// prefixes and \"escaped\" quotes inside JSON strings; an unterminated quote
// runs to the end of the line), the rest of the line in line mode (up to a
// " #" comment), or else one token.
func (sc *scanner) parseValue(v int, lineMode bool) (start, end int, quoted, ok bool) {
	s := sc.s
	n := len(s)
	for v < n && (s[v] == ' ' || s[v] == '\t') {
		v++
	}
	if v >= n || s[v] == '\n' || s[v] == '\r' {
		return 0, 0, false, false
	}
	if e := v + strings.IndexFunc(s[v:min(n, v+3)], func(r rune) bool { return r != '*' && r != '_' }); e > v && e < n && s[e] == ' ' {
		v = e // "**Password:** hunter2": the markdown emphasis closes after the colon
		for v < n && s[v] == ' ' {
			v++
		}
		if v >= n || s[v] == '\n' || s[v] == '\r' {
			return 0, 0, false, false
		}
	}
	p := v
	for d := 0; d < 2 && p+1 < n && strings.IndexByte("fbruFBRU", s[p]) >= 0; d++ {
		p++
	}
	if isQuote(s[p]) && p > v {
		v = p
	}
	if (s[v] == '"' || s[v] == '\'') && strings.HasPrefix(s[v:], s[v:v+1]+s[v:v+1]+s[v:v+1]) {
		end := sc.tripleEnd(v+3, s[v:v+3])
		return v + 3, end, true, true // Python """...""", may span lines
	}
	if isQuote(s[v]) {
		k := stopDQuote
		switch s[v] {
		case '\'':
			k = stopSQuote
		case '`':
			k = stopBQuote
		}
		j := v + 1
		for {
			j = sc.until(j, k)
			if j < n && s[j] == '\\' {
				j += 2
				continue
			}
			if j+1 < n && s[j] == '\'' && s[v] == '\'' && s[j+1] == '\'' {
				j += 2 // YAML and SQL write a quote inside '...' as ''
				continue
			}
			break
		}
		return v + 1, min(j, n), true, true
	}
	if s[v] == '\\' && v+1 < n && isQuote(s[v+1]) {
		j := v + 2
		for {
			j = sc.until(j, stopBackslash)
			if j < n && s[j] == '\\' && (j+1 >= n || s[j+1] != s[v+1]) {
				j++
				continue
			}
			break
		}
		return v + 2, j, true, true
	}
	j := v
	if lineMode {
		for {
			j = sc.until(j, stopLine)
			if j >= n || s[j] == '\n' || s[j] == '\r' ||
				(s[j] == '\\' && j+1 < n && (s[j+1] == 'n' || s[j+1] == 'r')) ||
				(s[j] == '#' && j > v && (s[j-1] == ' ' || s[j-1] == '\t')) {
				break
			}
			j++
		}
		for j > v && (s[j-1] == ' ' || s[j-1] == '\t') {
			j--
		}
	} else {
		j = sc.until(v, stopToken)
	}
	return v, j, false, j > v
}

// tripleEnd finds the closing triple quote at or after p (or the end of the
// text), memoised like until so that many unclosed openers stay linear.
func (sc *scanner) tripleEnd(p int, triple string) int {
	c := &sc.triple
	if c.quote == triple[0] && p >= c.from && p <= c.to {
		return c.to
	}
	end := len(sc.s)
	if k := strings.Index(sc.s[p:], triple); k >= 0 {
		end = p + k
	}
	*c = tripleSpan{quote: triple[0], from: p, to: end}
	return end
}

// isBlockIndicator: a YAML block scalar header (|, >, |-, >+2 ...).
func isBlockIndicator(v string) bool {
	if v == "" || (v[0] != '|' && v[0] != '>') {
		return false
	}
	for _, c := range []byte(v[1:]) {
		if c != '-' && c != '+' && (c < '1' || c > '9') {
			return false
		}
	}
	return len(v) <= 3
}

// yamlBlock returns the span of the lines after from that are indented more
// than the key.
func yamlBlock(s string, from, indent int) (start, end int) {
	brk := strings.IndexAny(s[from:], "\r\n")
	if brk < 0 {
		return 0, 0
	}
	p := from + brk + 1
	if s[p-1] == '\r' && p < len(s) && s[p] == '\n' {
		p++
	}
	start, end = -1, -1
	for p < len(s) {
		// Lines end at \n or a lone \r, as everywhere in the scanner.
		lineEnd := len(s)
		if k := strings.IndexAny(s[p:], "\r\n"); k >= 0 {
			lineEnd = p + k
		}
		q := p
		for q < lineEnd && (s[q] == ' ' || s[q] == '\t') {
			q++
		}
		if q < lineEnd {
			if q-p <= indent {
				break
			}
			if start < 0 {
				start = q
			}
			end = lineEnd
		}
		p = lineEnd + 1
	}
	if start < 0 {
		return 0, 0
	}
	return start, end
}

// notSecretWords: values that describe rather than are a secret (prose such
// as "password: required", MySQL's "(using password: YES)", type annotations
// such as "password: str", JSON schema examples such as "string").
var notSecretWords = map[string]bool{
	"is": true, "are": true, "was": true, "were": true, "be": true, "must": true, "should": true,
	"will": true, "can": true, "cannot": true, "may": true, "required": true, "optional": true,
	"invalid": true, "incorrect": true, "wrong": true, "missing": true, "empty": true, "not": true,
	"no": true, "yes": true, "none": true, "null": true, "nil": true, "true": true, "false": true,
	"undefined": true, "on": true, "off": true, "too": true, "the": true, "a": true, "an": true,
	"this": true, "that": true, "it": true, "please": true, "enter": true, "see": true, "use": true,
	"and": true, "or": true, "if": true, "for": true, "of": true, "to": true, "in": true, "from": true,
	"with": true, "via": true, "here": true, "below": true, "above": true, "same": true,
	"changed": true, "reset": true, "expired": true, "hidden": true, "redacted": true, "masked": true,
	"omitted": true, "removed": true, "provided": true, "unchanged": true, "unset": true, "token": true,
	"my": true, "your": true, "our": true, "i": true, "we": true, "you": true, "what": true, "how": true,
	"why": true, "when": true, "where": true, "which": true, "who": true, "but": true, "so": true,
	"then": true, "now": true, "also": true, "just": true, "still": true, "again": true, "forgot": true,
	"forgotten": true, "lost": true, "change": true, "update": true, "new": true, "old": true,
	"current": true, "different": true, "nothing": true, "field": true, "prompt": true, "policy": true,
	"requirements": true, "rules": true, "length": true, "hint": true, "manager": true,
	"protected": true, "encrypted": true, "hashed": true, "saved": true, "stored": true, "sent": true,
	"failed": true, "locked": true, "disabled": true, "enabled": true, "accepted": true,
	"rejected": true, "await": true, "async": true, "lambda": true, "function": true, "yield": true,
	"return": true, "typeof": true, "ok": true, "secret": true, "password": true, "passwd": true,
	"pass": true, "key": true, "apikey": true, "session": true, "requires": true, "returns": true,
	"contains": true, "specifies": true, "indicates": true, "used": true, "uses": true, "means": true, "okay": true, "error": true, "authentication": true, "login": true,
	"str": true, "string": true, "int": true, "bytes": true, "bool": true, "boolean": true,
	"number": true, "any": true, "option": true, "secretstr": true, "text": true, "varchar": true,
}

// codeRoots: unquoted values like process.env.X or settings.API_KEY are
// references in code, not secrets.
var codeRoots = map[string]bool{
	"os": true, "process": true, "env": true, "self": true, "this": true, "config": true,
	"settings": true, "cfg": true, "conf": true, "args": true, "opts": true, "options": true,
	"params": true, "request": true, "req": true, "ctx": true, "context": true, "secrets": true,
	"vars": true, "props": true, "environ": true, "system": true, "var": true, "local": true,
	"data": true, "module": true, "each": true, "values": true, "inputs": true, "input": true,
}

// valueOK is the package valueOK for s[start:end], which also must not hold
// one of this engine's markers: a value the first pass left alone but
// replaced a secret inside (a code reference around an sk- key) would read
// differently on the second pass, so it is left alone again.
func (sc *scanner) valueOK(start, end int, quoted bool) bool {
	return valueOK(sc.s[start:end], quoted) && sc.nextMarker(start) >= end
}

// nextMarker returns where the next marker starts at or after p, memoised
// like until.
func (sc *scanner) nextMarker(p int) int {
	c := &sc.marker
	if p >= c.from && p <= c.to {
		return c.to
	}
	j := len(sc.s)
	if k := strings.Index(sc.s[p:], "[REDACTED"); k >= 0 {
		j = p + k
	}
	if k := strings.Index(sc.s[p:j], "[TRUNCATED"); k >= 0 {
		j = p + k
	}
	c.from, c.to = p, j
	return j
}

// isMarkerAt: one of this engine's markers starts at i.
func isMarkerAt(s string, i int) bool {
	return strings.HasPrefix(s[i:], "[REDACTED") || strings.HasPrefix(s[i:], "…[TRUNCATED")
}

// valueOK tells a value worth redacting from a placeholder, an empty value,
// a reference, a marker of this engine (which keeps Redact idempotent) or prose.
func valueOK(v string, quoted bool) bool {
	if len(v) < 2 || isMarkerAt(v, 0) {
		return false // one character is no secret worth a marker
	}
	switch v[0] {
	case '$', '{', '[', '<', '(', '%':
		return false // ${VAR}, {{ template }}, <your-key>, %s, [list], (expr)
	}
	if namesASecret(v) {
		return false // "aws_secret_access_key", "X-Api-Key", "OPENAI_API_KEY": the name, not the secret
	}
	if isMask(v) || hasPlaceholderPrefix(v) || isYAMLTag(v) || (len(v) > 4 && strings.HasPrefix(v, "__") && strings.HasSuffix(v, "__")) ||
		isAbbreviation(v) {
		return false // ... and !vault / !Ref tags, __API_KEY__ template slots, abbreviations (/7PC5om....)
	}
	w := 0
	for w < len(v) && tab[v[w]]&(fUpper|fLower) != 0 {
		w++
	}
	// Prose starts with such a word ("password: must be 8 characters");
	// a quoted value only is one ("password": "string"), so 'a b c' stays a value.
	if w > 0 && w <= 16 && (w == len(v) || (!quoted && strings.IndexByte(" \t.,;:!?)", v[w]) >= 0)) && inFold(notSecretWords, v[:w]) {
		return false
	}
	return true
}

// bareOK: a bare name takes only a fitting value: pass not a count
// (pass=12 fail=0), key/token/secret/auth only a random-looking word.
func bareOK(kind keyKind, v string) bool {
	switch kind {
	case keyPassBare:
		return !isDigits(v)
	case keyBare:
		return randomWord(v)
	}
	return true
}

// randomWord: the value of a bare "key"/"token"/"secret" must be one
// random-looking word of 16+ base64url characters (AIzaSy..., ghp_..., an
// opaque token), not text, a path, a UUID or a streamed LLM token.
func randomWord(v string) bool {
	w := strings.TrimRight(v, "=")
	for i := 0; i < len(w); i++ {
		if !isB64URL(w[i]) {
			return false
		}
	}
	return !isUUID(w) && tokenish(w[:min(len(w), 256)], 16) && classChanges(w, 4)
}

// classChanges: upper case, lower case and digits alternate at least n
// times, as in random text (user_profile_settings_v2 changes once).
func classChanges(w string, n int) bool {
	changes := 0
	var prev uint8
	for i := 0; i < len(w) && changes < n; i++ {
		c := tab[w[i]] & (fUpper | fLower | fDigit)
		if c == 0 {
			continue
		}
		if prev != 0 && c != prev {
			changes++
		}
		prev = c
	}
	return changes >= n
}

// isUUID: 8-4-4-4-12 hex digits.
func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isAbbreviation: an example shortened with an ellipsis (/7PC5om....,
// sk-abc…): a token followed by "..." or "…".
func isAbbreviation(v string) bool {
	t := strings.TrimRight(strings.TrimRight(v, "."), "…")
	if len(v)-len(t) < 3 && !strings.HasSuffix(v, "…") {
		return false
	}
	for i := 0; i < len(t); i++ {
		if tab[t[i]]&fB64 == 0 && t[i] != '=' {
			return false
		}
	}
	return true
}

// isYAMLTag: !vault, !Ref DbSecret - the value comes from elsewhere.
func isYAMLTag(v string) bool {
	if len(v) < 2 || v[0] != '!' {
		return false
	}
	w := 1
	for w < len(v) && tab[v[w]]&(fUpper|fLower) != 0 {
		w++
	}
	return w > 1 && (w == len(v) || v[w] == ' ')
}

// isLetters: letters, '-' and '_' only (a key prefix such as sk-proj).
func isLetters(v string) bool {
	for i := 0; i < len(v); i++ {
		if tab[v[i]]&(fUpper|fLower) == 0 && v[i] != '-' && v[i] != '_' {
			return false
		}
	}
	return true
}

func hasDigit(v string) bool {
	for i := 0; i < len(v); i++ {
		if tab[v[i]]&fDigit != 0 {
			return true
		}
	}
	return false
}

func isDigits(v string) bool {
	for i := 0; i < len(v); i++ {
		if tab[v[i]]&fDigit == 0 {
			return false
		}
	}
	return true
}

// isMask: ****, xxxx, ..., •••, ●●●, ---, also after a short prefix (sk-xxxx).
func isMask(v string) bool {
	if len(v) < 3 || len(v) > 128 {
		return false
	}
	if p := strings.LastIndexAny(v, "-_"); p > 0 && p <= 12 && len(v)-p > 3 && isLetters(v[:p]) && isMask(v[p+1:]) {
		return true
	}
	for _, r := range v {
		if !strings.ContainsRune("*xX.•●○∗…#-_", r) {
			return false
		}
	}
	return true
}

// hasPlaceholderPrefix: YOUR_API_KEY, your-password-here, my_token, <...>.
func hasPlaceholderPrefix(v string) bool {
	for _, p := range []string{"your", "my", "insert", "replace", "enter"} {
		if hasPrefixFold(v, 0, p) && len(v) > len(p) {
			c := v[len(p)]
			if c == '_' || c == '-' || c == ' ' || c == '.' || (p == "your" && tab[c]&fUpper != 0) {
				return true
			}
		}
	}
	return false
}

// isCodeRef: an unquoted value that is code: a call or index (getpass(),
// os.environ["X"]), a dotted path from a well-known root (process.env.KEY),
// or a variable named like a secret (api_key=api_key, password=db_password).
func isCodeRef(v, key string) bool {
	if len(v) > 256 {
		return false
	}
	if len(v) > 1 && (v[0] == '*' || v[0] == '&') && tab[v[1]]&(fUpper|fLower) != 0 {
		return true // Go's *resp.Token, &cfg.Secret
	}
	p := 0
	dots := 0
	root := ""
	for {
		q := p
		if q >= len(v) || !(tab[v[q]]&(fUpper|fLower) != 0 || v[q] == '_') {
			return false
		}
		for q < len(v) && (tab[v[q]]&fAlnum != 0 || v[q] == '_') {
			q++
		}
		if root == "" {
			root = v[p:q]
		}
		if q == len(v) {
			if dots > 0 {
				// a path from a well-known root (process.env.X) or to a
				// variable named like a secret (var.db_password, cfg.apiKey)
				return (len(root) <= 16 && inFold(codeRoots, root)) || variableName(v[p:], "")
			}
			return variableName(v, key)
		}
		switch v[q] {
		case '{':
			return dots > 0 && !hasDigit(v[:q]) // pkg.Type{} composite literal
		case '(', '[':
			return !hasDigit(v[:q]) || inFold(codeRoots, root) // getpass(), os.environ[...]; hunter2( is a value
		case '.':
			dots++
			p = q + 1
		case ':':
			if q+1 >= len(v) || v[q+1] != ':' {
				return false
			}
			dots++ // Rust, C++ and PHP paths: env::var(...)
			p = q + 2
		default:
			return false
		}
	}
}

// isCodeOperand: an identifier in a struct or object literal or argument
// list (followed by , ) } or ;) that reads as a variable: a Go-style
// capitalised key (PrivateKey: tpmSigner,) or a camelCase, snake_case or
// dotted name (apiKey: cfg.APIKey,). "password: hunter, then" stays a value.
func isCodeOperand(s string, keyStart int, v string, end int) bool {
	if n := len(v); n > 1 && (v[n-1] == ',' || v[n-1] == ';') {
		v = v[:n-1] // a whole line: "\t\tPrivateKey: tpmSigner,"
	} else if end >= len(s) || strings.IndexByte(",)};", s[end]) < 0 {
		return false
	}
	if hasDigit(v) {
		return false
	}
	compound := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '_' || c == '.':
			compound = true
		case tab[c]&fUpper != 0:
			compound = compound || (i > 0 && tab[v[i-1]]&fLower != 0)
		case tab[c]&fLower == 0:
			return false
		}
	}
	return compound || tab[s[keyStart]]&fUpper != 0
}

// variableName: an unquoted identifier that is the key itself
// (password=password, api_key=api_key) or names a secret (see namesASecret).
func variableName(v, key string) bool {
	for len(key) > 0 && (key[0] == '-' || key[0] == '.') {
		key = key[1:]
	}
	return (!hasDigit(v) && strings.EqualFold(key, v)) || namesASecret(v)
}

// namesASecret: a compound name without digits that names a secret
// (OPENAI_API_KEY, apiKey, db_password, X-Api-Key, aws_secret_access_key).
// Passwords usually carry digits or symbols; such names do not, and
// "mysecretpassword" is one word, so it stays a value.
func namesASecret(v string) bool {
	if len(v) > 64 {
		return false
	}
	compound := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '_' || c == '-' || c == '.':
			compound = true
		case tab[c]&fUpper != 0:
			compound = compound || (i > 0 && tab[v[i-1]]&fLower != 0)
		case tab[c]&fLower == 0:
			return false
		}
	}
	if !compound {
		return false
	}
	if classifyKey(v) != keyNone {
		return true
	}
	for _, w := range []string{"key", "secret", "token", "pass", "pwd", "cred"} {
		if containsFold(v, w) {
			return true
		}
	}
	return false
}

// placeholderPasswords: https://username:password@host in documentation.
var placeholderPasswords = map[string]bool{"password": true, "pass": true, "passwd": true, "pwd": true, "pw": true, "secret": true}

// userinfo: the password in scheme://user:password@host.
func (sc *scanner) userinfo(i int) {
	s := sc.s
	if !sc.on[clsPassword] {
		return
	}
	// Walk back to "://". No length bound (it would reach further once a
	// long token in the user name shrinks to a marker); reaching the
	// previous '@' reuses its answer, which keeps the walks linear.
	k := i
	for {
		if k >= 3 && s[k-1] == '/' && s[k-2] == '/' && s[k-3] == ':' {
			break
		}
		if k == sc.ui.at && k > 0 {
			k = sc.ui.start
			break
		}
		if k == 0 || !isUserinfoChar(s[k-1]) {
			k = -1
			break
		}
		k--
	}
	sc.ui.at, sc.ui.start = i, k
	if k < 0 {
		return
	}
	c := strings.IndexByte(s[k:i], ':')
	if c < 0 {
		return
	}
	if pw := s[k+c+1 : i]; sc.valueOK(k+c+1, i, true) && !inFold(placeholderPasswords, pw) {
		sc.add(k+c+1, i, clsPassword)
	}
}

func isUserinfoChar(c byte) bool {
	return tab[c]&fAlnum != 0 || strings.IndexByte("-._~!$&'()*+,;=:%@#?^[]{}|", c) >= 0
}

// xmlElement: <password>value</password>, <apiKey>value</apiKey>.
func (sc *scanner) xmlElement(i int) {
	s := sc.s
	k := i
	for k > 0 && i-k < 64 && tab[s[k-1]]&fKey != 0 {
		k--
	}
	if k == i || k == 0 || s[k-1] != '<' {
		return
	}
	kind := classifyKey(s[k:i])
	if kind == keyNone || kind == keyAuthorization || !sc.on[kind.class()] {
		return
	}
	v := i + 1
	j := v
	for j < len(s) && s[j] != '<' && s[j] != '\n' {
		j++
	}
	if j >= len(s) || s[j] != '<' {
		return
	}
	for v < j && s[v] == ' ' {
		v++
	}
	for j > v && s[j-1] == ' ' {
		j--
	}
	val := s[v:j]
	if sc.valueOK(v, j, true) && bareOK(kind, val) {
		sc.add(v, j, kind.class())
	}
}

// inFold looks a short ASCII word up case-insensitively without allocating.
func inFold(set map[string]bool, w string) bool {
	var b [16]byte
	n := copy(b[:], w)
	for i := 0; i < n; i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return set[string(b[:n])]
}
