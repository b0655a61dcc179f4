package redaction

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// cand is a candidate match: the span [start, end) of s to replace.
type cand struct {
	start, end int
	cls        class
}

// Byte classes for the single pass.
const (
	fB64       uint8 = 1 << iota // base64 / base64url alphabet: A-Z a-z 0-9 + / - _
	fAlnum                       // A-Z a-z 0-9
	fTrigWord                    // may start a match at a word start: A B b e s
	fTrigPunct                   // may anchor a match: - = : @ > , (
	fKey                         // may be part of a key name: A-Z a-z 0-9 _ . -
	fUpper
	fLower
	fDigit
)

var tab = func() (t [256]uint8) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= fB64 | fAlnum | fKey | fUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= fB64 | fAlnum | fKey | fLower
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= fB64 | fAlnum | fKey | fDigit
	}
	for _, c := range "+/" {
		t[c] |= fB64
	}
	for _, c := range "-_" {
		t[c] |= fB64 | fKey
	}
	t['.'] |= fKey
	for _, c := range "ABbes" {
		t[c] |= fTrigWord
	}
	for _, c := range "-=:@>,(" {
		t[c] |= fTrigPunct
	}
	return t
}()

// longTokenMin: a base64-like token must be longer than 200 characters.
const longTokenMin = 201

type scanner struct {
	s        string
	on       *[numClasses]bool
	nfixed   int
	fixed    [8]cand // the first candidates, kept in the scanner so that clean text allocates nothing
	more     []cand  // all candidates once fixed is full
	pemEnd   int     // end of the last private key block: BEGIN/END lines inside it are handled
	jwtEnd   int     // end of the last JWT
	blockEnd int     // end of the last YAML block scalar value
	stops    [numStops]stopSpan
	triple   tripleSpan
	// ui: the last '@' and where its userinfo starts (after "://"), -1 if none.
	ui     struct{ at, start int }
	public stopSpan // the last public key or certificate block
	pubEnd stopSpan // publicBlock's memo: the first END line at or after from is at to
	cmds   [numCmds]lineWord
	line   struct{ at, start int } // lineStart's memo
	marker stopSpan                // nextMarker's memo
}

type tripleSpan struct {
	quote    byte
	from, to int
}

// Forward scans that matchers repeat from nearby starts ("eyJ-eyJ-eyJ…",
// unterminated quotes after many keys) are memoised, so a hostile text costs
// linear, not quadratic, time.
type stopKind uint8

const (
	stopB64URL    stopKind = iota // not base64url
	stopBearer                    // not a bearer token character
	stopToken                     // isValueEnd
	stopLine                      // \n \r \\ #
	stopDQuote                    // " \n \\
	stopSQuote                    // ' \n \\
	stopBQuote                    // ` \n \\
	stopBackslash                 // \\ \n
	numStops
)

var stopTab = func() (t [numStops][256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		t[stopB64URL][c] = !isB64URL(b)
		t[stopBearer][c] = !isBearerChar(b)
		t[stopToken][c] = isValueEnd(b)
	}
	for _, c := range "\n\r\\#" {
		t[stopLine][c] = true
	}
	for k, q := range map[stopKind]byte{stopDQuote: '"', stopSQuote: '\'', stopBQuote: '`', stopBackslash: '\\'} {
		t[k][q], t[k]['\n'], t[k]['\\'] = true, true, true
	}
	return t
}()

// stopSpan: no byte of s[from:to] is a stop; s[to] is one, or to == len(s).
type stopSpan struct{ from, to int }

// until returns the first stop of kind k at or after p.
func (sc *scanner) until(p int, k stopKind) int {
	c := &sc.stops[k]
	if p >= c.from && p <= c.to {
		return c.to
	}
	t := &stopTab[k]
	j := p
	for j < len(sc.s) && !t[sc.s[j]] {
		j++
	}
	c.from, c.to = p, j
	return j
}

func (sc *scanner) add(start, end int, c class) {
	if start >= end {
		return
	}
	if sc.more == nil && sc.nfixed < len(sc.fixed) {
		sc.fixed[sc.nfixed] = cand{start, end, c}
		sc.nfixed++
		return
	}
	if sc.more == nil {
		sc.more = append(make([]cand, 0, 4*len(sc.fixed)), sc.fixed[:]...)
	}
	sc.more = append(sc.more, cand{start, end, c})
}

func (sc *scanner) cands() []cand {
	if sc.more != nil {
		return sc.more
	}
	return sc.fixed[:sc.nfixed]
}

// scan is the single pass. Words (runs of letters and digits) are skipped
// with one table lookup per byte; matchers run only at a word start whose
// first letter can begin a match (A B b e s) and at the punctuation that can
// anchor one (- = : @ > , (). Base64-like runs are measured as they go by.
func (sc *scanner) scan() {
	s := sc.s
	for k := range sc.stops {
		sc.stops[k] = stopSpan{-1, -1}
	}
	sc.ui.at = -1
	sc.public = stopSpan{-1, -1}
	sc.pubEnd = stopSpan{-1, -1}
	sc.marker = stopSpan{-1, -1}
	for k := range sc.cmds {
		sc.cmds[k].start = -1
	}
	run := 0 // start of the current base64-like run
	for i := 0; i < len(s); {
		f := tab[s[i]]
		if f&fAlnum != 0 {
			if f&fTrigWord != 0 {
				sc.trigger(i)
			} else if i > 0 && s[i-1] == '\\' && i+1 < len(s) && tab[s[i+1]]&fTrigWord != 0 && isEscapeLetter(s[i]) {
				sc.trigger(i + 1) // "\nAKIA…" in JSON-escaped text: the word starts after the escape
			}
			for i++; i < len(s) && tab[s[i]]&fAlnum != 0; i++ {
			}
			continue
		}
		if f&fTrigPunct != 0 {
			sc.trigger(i)
		}
		if f&fB64 == 0 && !(s[i] == '\\' && i+1 < len(s) && s[i+1] == '/') { // a JSON-escaped slash does not end a run
			if i-run >= longTokenMin-2 {
				sc.longRun(run, i)
			}
			run = i + 1
		}
		i++
	}
	if len(s)-run >= longTokenMin-2 {
		sc.longRun(run, len(s))
	}
}

func (sc *scanner) trigger(i int) {
	switch sc.s[i] {
	case 'A':
		sc.aws(i)
	case 'B', 'b':
		sc.bearer(i)
	case 'e':
		sc.jwt(i)
	case 's':
		sc.openai(i)
	case '-':
		sc.dash(i)
	case '=', ':':
		sc.field(i)
	case '@':
		sc.userinfo(i)
	case '>':
		sc.xmlElement(i)
	case ',':
		sc.callArg(i)
	case '(':
		sc.setter(i)
	}
}

// longRun checks the run [start, end) plus any '=' padding after it.
func (sc *scanner) longRun(start, end int) {
	if !sc.on[clsLongBase64] {
		return
	}
	s := sc.s
	if start > 0 && s[start-1] == '\\' && isEscapeLetter(s[start]) {
		start++ // keep a \n escape before the token intact
	}
	for end < len(s) && s[end] == '=' {
		end++
	}
	// A public block keeps its body and its armour lines: a run reaching
	// into the block from either side is cut at the block's edge.
	if start < sc.public.from && end > sc.public.from {
		end = sc.public.from
	}
	if start < sc.public.to && end > sc.public.to {
		start = sc.public.to
	}
	if end-start >= longTokenMin && !(start >= sc.public.from && end <= sc.public.to) && diverse(s[start:end]) {
		sc.add(start, end, clsLongBase64)
	}
}

// diverse tells an encoded token from a long run of one letter or a repeated
// short pattern (e.g. "xxxx…" in a truncation test, a line of dashes): it
// needs two of upper case, lower case and digits, at least 10 distinct
// characters, and few separators (+ / - _ are about 3% of random base64; a
// path or a kebab-case name has many more).
func diverse(t string) bool {
	var seen [256]bool
	var kinds uint8
	distinct, seps := 0, 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		kinds |= tab[c] & (fUpper | fLower | fDigit)
		if tab[c]&fAlnum == 0 {
			seps++
		}
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	k := 0
	for _, f := range []uint8{fUpper, fLower, fDigit} {
		if kinds&f != 0 {
			k++
		}
	}
	return k >= 2 && distinct >= 10 && seps*10 <= len(t)
}

// tokenish tells a random-looking secret from words: long enough, at least
// 8 distinct characters, and a digit or a capital inside a lower-case word
// (so "sk-learn-Pipeline-Example" and "Bearer authentication" are not keys).
func tokenish(t string, minLen int) bool {
	if len(t) < minLen {
		return false
	}
	var seen [256]bool
	distinct := 0
	digit, lower, innerUpper := false, false, false
	for i := 0; i < len(t); i++ {
		c := t[i]
		f := tab[c]
		digit = digit || f&fDigit != 0
		lower = lower || f&fLower != 0
		if f&fUpper != 0 && i > 0 && tab[t[i-1]]&(fUpper|fLower) != 0 {
			innerUpper = true
		}
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	return distinct >= 8 && (digit || (lower && innerUpper))
}

func isB64URL(c byte) bool { return tab[c]&fAlnum != 0 || c == '-' || c == '_' }

func hasPrefixFold(s string, i int, lower string) bool {
	if i < 0 || i+len(lower) > len(s) {
		return false
	}
	for k := 0; k < len(lower); k++ {
		c := s[i+k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[k] {
			return false
		}
	}
	return true
}

func containsFold(s, lower string) bool { return indexFold(s, lower) >= 0 }

// aws: AKIA (long-term) or ASIA (temporary) plus 16 of [A-Z0-9], as a whole word.
func (sc *scanner) aws(i int) {
	s := sc.s
	if !sc.on[clsAWS] || i+20 > len(s) || s[i+2] != 'I' || s[i+3] != 'A' || (s[i+1] != 'K' && s[i+1] != 'S') {
		return
	}
	for j := i + 4; j < i+20; j++ {
		if tab[s[j]]&(fUpper|fDigit) == 0 {
			return
		}
	}
	if i+20 < len(s) && tab[s[i+20]]&fAlnum != 0 {
		return
	}
	sc.add(i, i+20, clsAWS)
}

// jwt: eyJ header, payload and signature segments (two more for a JWE).
func (sc *scanner) jwt(i int) {
	s := sc.s
	if !sc.on[clsJWT] || i+3 > len(s) || s[i+1] != 'y' || s[i+2] != 'J' || i < sc.jwtEnd {
		return // (a payload segment is part of the JWT found at its header)
	}
	j := sc.until(i, stopB64URL)
	if j-i < 10 || j >= len(s) || s[j] != '.' {
		return
	}
	k := sc.until(j+1, stopB64URL)
	if k-(j+1) < 2 || k >= len(s) || s[k] != '.' {
		return
	}
	end := sc.until(k+1, stopB64URL)
	if end == k+1 && !strings.HasPrefix(s[j+1:], "eyJ") {
		return // only an unsigned token (alg "none", payload eyJ…) may end with an empty signature
	}
	if end+1 < len(s) && s[end] == '.' && isB64URL(s[end+1]) {
		e2 := sc.until(end+1, stopB64URL)
		if e2+1 < len(s) && s[e2] == '.' && isB64URL(s[e2+1]) {
			end = sc.until(e2+1, stopB64URL)
		}
	}
	sc.add(i, end, clsJWT)
	sc.jwtEnd = end
}

// openai: sk- (incl. sk-proj-, sk-svcacct-, sk-admin-) and a random-looking body.
func (sc *scanner) openai(i int) {
	s := sc.s
	if !sc.on[clsOpenAI] || i+3 >= len(s) || s[i+1] != 'k' || s[i+2] != '-' {
		return
	}
	end := sc.until(i+3, stopB64URL)
	if !tokenish(s[i+3:min(end, i+3+256)], 20) {
		return
	}
	sc.add(i, end, clsOpenAI)
}

func isLowerWord(t string) bool {
	for i := 0; i < len(t); i++ {
		if tab[t[i]]&fLower == 0 {
			return false
		}
	}
	return true
}

func isBearerChar(c byte) bool {
	return tab[c]&fAlnum != 0 || strings.IndexByte("-._~+/", c) >= 0
}

// bearer: "Bearer <token>". In an Authorization context (the word
// "authorization" earlier on the line) any token that is not a placeholder
// counts; elsewhere the token must look random, so "Bearer of bad news" and
// "bearer authentication" survive.
func (sc *scanner) bearer(i int) {
	s := sc.s
	if hasPrefixFold(s, i, "basic") {
		sc.basic(i)
		return
	}
	if !sc.on[clsBearer] || !hasPrefixFold(s, i, "bearer") {
		return
	}
	j := i + 6
	if j >= len(s) || (s[j] != ' ' && s[j] != '\t') {
		return
	}
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j >= len(s) || !isBearerChar(s[j]) || s[j] == '.' {
		return
	}
	end := sc.until(j, stopBearer)
	for end < len(s) && s[end] == '=' {
		end++
	}
	// A random-looking token always counts; in an Authorization header
	// anything but a placeholder or a short word does ("Authorization:
	// Bearer followed by the token").
	tok := s[j:end]
	if tokenish(tok[:min(len(tok), 256)], 16) ||
		(authContext(s, i) && valueOK(tok, false) && !(len(tok) < 16 && isLowerWord(tok))) {
		sc.add(j, end, clsBearer)
	}
}

// basic: "Basic <base64 of user:password>" anywhere (a header, a log line);
// the credentials must decode to printable text with a colon.
func (sc *scanner) basic(i int) {
	s := sc.s
	j := i + 5
	if !sc.on[clsPassword] || j >= len(s) || s[j] != ' ' {
		return
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	end := j
	for end < len(s) && end-j <= 512 && (tab[s[end]]&fAlnum != 0 || s[end] == '+' || s[end] == '/') {
		end++
	}
	for k := 0; k < 2 && end < len(s) && s[end] == '='; k++ {
		end++
	}
	if end-j < 8 || (end < len(s) && tab[s[end]]&fB64 != 0) {
		return
	}
	if (end-j)%4 != 0 {
		return
	}
	var src [520]byte
	var buf [390]byte
	n, err := base64.StdEncoding.Decode(buf[:], src[:copy(src[:], s[j:end])])
	if err != nil || bytes.IndexByte(buf[:n], ':') < 1 {
		return
	}
	for _, c := range buf[:n] {
		if c < 0x20 || c > 0x7e {
			return
		}
	}
	sc.add(j, end, clsPassword)
}

// authContext: "Bearer" at i is the value of an Authorization header: only
// separators (quotes, blanks, ':', '=', ',') lie between them. A fixed,
// local context keeps Redact idempotent (a distance would shrink as earlier
// secrets are replaced).
func authContext(s string, i int) bool {
	k := i
	for k > 0 && i-k < 10 && strings.IndexByte(" \t\"'`:=,\\", s[k-1]) >= 0 {
		k--
	}
	a := k - len("authorization")
	return k < i && hasPrefixFold(s, a, "authorization") && wordStartAt(s, a)
}

// dash handles PEM armour lines, long command-line flags and curl's -u.
func (sc *scanner) dash(i int) {
	s := sc.s
	if i+2 >= len(s) {
		return
	}
	if s[i+1] == '-' {
		if strings.HasPrefix(s[i:], "-----") {
			sc.pem(i)
			return
		}
		if i == 0 || isSpaceOrQuote(s[i-1]) {
			sc.flag(i)
		}
		return
	}
	if i > 0 && !isSpaceOrQuote(s[i-1]) {
		return
	}
	switch {
	case s[i+1] == 'u' && s[i+2] == ' ' && sc.lineHas(i, cmdCurl):
		sc.curlUser(i + 3)
	case s[i+1] == 'p' && s[i+2] != ' ' && (sc.lineHas(i, cmdMySQL) || sc.lineHas(i, cmdMariaDB)):
		sc.shortFlagPassword(i + 2) // mysql -pSECRET
	case s[i+1] == 'p' && s[i+2] == ' ' && sc.lineHas(i, cmdSSHPass):
		sc.shortFlagPassword(i + 3) // sshpass -p SECRET
	}
}

func (sc *scanner) shortFlagPassword(v int) {
	if !sc.on[clsPassword] {
		return
	}
	start, end, quoted, ok := sc.parseValue(v, false)
	if ok && sc.valueOK(start, end, quoted) {
		sc.add(start, end, clsPassword)
	}
}

// wordStartAt: no letter or digit before i, or only a \n-style escape.
func wordStartAt(s string, i int) bool {
	return i == 0 || tab[s[i-1]]&fAlnum == 0 || (i >= 2 && s[i-2] == '\\' && isEscapeLetter(s[i-1]))
}

// isEscapeLetter: the letter of a \n, \r or \t escape.
func isEscapeLetter(c byte) bool { return c == 'n' || c == 'r' || c == 't' }

func isSpace(c byte) bool        { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isQuote(c byte) bool        { return c == '"' || c == '\'' || c == '`' }
func isSpaceOrQuote(c byte) bool { return isSpace(c) || isQuote(c) }

// pemLabel reads the label after -----BEGIN / -----END at i and reports the
// position after the armour line's closing dashes and whether it names a
// private key.
func pemLabel(s string, i int) (end int, private bool) {
	j := i
	for j < len(s) && s[j] == ' ' {
		j++
	}
	k := j
	for k < len(s) && k-j < 64 && (tab[s[k]]&fAlnum != 0 || s[k] == ' ') {
		k++
	}
	private = containsFold(s[j:k], "private key")
	for d := 0; d < 5 && k < len(s) && s[k] == '-'; d++ {
		k++
	}
	return k, private
}

// pem: a whole private key block. Without an END line the block runs to the
// end of the text: nothing tells where the key material stops. An END line
// without its BEGIN takes the key-looking text before it.
func (sc *scanner) pem(i int) {
	s := sc.s
	switch {
	case hasPrefixFold(s, i+5, "begin") && i >= sc.pemEnd:
		hdrEnd, private := pemLabel(s, i+10)
		if !private {
			sc.publicBlock(i, hdrEnd)
			return
		}
		if !sc.on[clsPEM] {
			return
		}
		end := len(s)
		for p := hdrEnd; ; {
			k := strings.Index(s[p:], "-----")
			if k < 0 {
				break
			}
			p += k + 5
			if hasPrefixFold(s, p, "end") {
				if e, private := pemLabel(s, p+3); private {
					end = e
					break
				}
			}
		}
		sc.add(i, end, clsPEM)
		sc.pemEnd = end
	case hasPrefixFold(s, i+5, "end") && i >= sc.pemEnd && sc.on[clsPEM]:
		end, private := pemLabel(s, i+8)
		if private {
			sc.add(orphanPEMStart(s, i, sc.pemEnd), end, clsPEM)
			sc.pemEnd = end
		}
	}
}

// publicBlock marks a PUBLIC KEY or CERTIFICATE block (BEGIN at i) up to
// its END line: its body is no secret, even written on one long line.
func (sc *scanner) publicBlock(i, hdrEnd int) {
	if i < sc.public.to || !(containsFold(sc.s[i:hdrEnd], "public key") || containsFold(sc.s[i:hdrEnd], "certificate")) {
		return
	}
	// The first END line after the header, memoised: many BEGIN lines
	// before one END would otherwise each search to it.
	c := &sc.pubEnd
	if hdrEnd < c.from || hdrEnd > c.to {
		c.from, c.to = hdrEnd, len(sc.s)
		if k := strings.Index(sc.s[hdrEnd:], "-----END"); k >= 0 {
			c.to = hdrEnd + k
		}
	}
	if c.to == len(sc.s) {
		return
	}
	end, private := pemLabel(sc.s, c.to+8)
	if !private {
		sc.public = stopSpan{from: i, to: end}
	}
}

func isPEMBody(c byte) bool { return tab[c]&fAlnum != 0 || c == '+' || c == '/' || c == '=' }

// orphanPEMStart walks back from an END line over base64 body tokens: the one
// next to END may be short (the last line), earlier ones must be 16+ chars.
func orphanPEMStart(s string, i, floor int) int {
	k := i
	for first := true; ; first = false {
		p := k
		for p > floor && (isSpace(s[p-1]) || s[p-1] == '\\') {
			p--
		}
		t := p
		for t > floor && isPEMBody(s[t-1]) {
			t--
		}
		if t == p || (!first && p-t < 16) {
			return k
		}
		k = t
	}
}

// Words that give a line its context: commands whose options carry
// passwords (curl -u, mysql -p, sshpass -p), and Azure (an api_key there is
// an Azure key: AzureOpenAI(api_key="...")).
const (
	cmdCurl = iota
	cmdMySQL
	cmdMariaDB
	cmdSSHPass
	cmdAzure
	cmdAzureTitle
	cmdAzureUpper
	numCmds
)

var cmdWords = [numCmds]string{"curl", "mysql", "mariadb", "sshpass", "azure", "Azure", "AZURE"}

// lineWord memoises whether a command word occurs on a line before scanned.
type lineWord struct {
	start, scanned int
	found          bool
}

// lineHas: the command word appears earlier on the line (so docker's
// -u 1000:1000 survives, and -p is a password only for mysql and sshpass).
// The whole line counts, not a window: a window would reach further once
// earlier secrets shrink to markers, and a second pass would find more.
func (sc *scanner) lineHas(i, cmd int) bool {
	word := cmdWords[cmd]
	ls := sc.lineStart(i)
	c := &sc.cmds[cmd]
	if c.start != ls || c.scanned > i {
		*c = lineWord{start: ls, scanned: ls}
	}
	if !c.found {
		c.found = strings.Contains(sc.s[max(ls, c.scanned-len(word)+1):i], word)
	}
	c.scanned = i
	return c.found
}

// lineStart returns where the line holding i starts. Queries mostly come
// in increasing order, so the answer is carried forward (linear in total).
func (sc *scanner) lineStart(i int) int {
	if i < sc.line.at {
		return strings.LastIndexByte(sc.s[:i], '\n') + 1
	}
	if nl := strings.LastIndexByte(sc.s[sc.line.at:i], '\n'); nl >= 0 {
		sc.line.start = sc.line.at + nl + 1
	}
	sc.line.at = i
	return sc.line.start
}

// curlUser: the password part of curl's -u/--user user:password.
func (sc *scanner) curlUser(v int) {
	if !sc.on[clsPassword] {
		return
	}
	start, end, _, ok := sc.parseValue(v, false)
	if !ok {
		return
	}
	c := strings.IndexByte(sc.s[start:end], ':')
	if c < 0 {
		return
	}
	if sc.valueOK(start+c+1, end, true) {
		sc.add(start+c+1, end, clsPassword)
	}
}

// flag: --password VALUE, --api-key VALUE, curl's --user u:p (the --x=VALUE
// form is a key=value field).
func (sc *scanner) flag(i int) {
	s := sc.s
	j := i + 2
	for j < len(s) && (tab[s[j]]&fAlnum != 0 || s[j] == '-' || s[j] == '_') {
		j++
	}
	if j >= len(s) || s[j] != ' ' || j == i+2 {
		return
	}
	v := j
	for v < len(s) && s[v] == ' ' {
		v++
	}
	if v >= len(s) || s[v] == '-' {
		return
	}
	name := s[i+2 : j]
	if strings.EqualFold(name, "user") {
		if sc.lineHas(i, cmdCurl) {
			sc.curlUser(v)
		}
		return
	}
	kind := classifyKey(name)
	if kind == keyNone || kind == keyAuthorization {
		return
	}
	sc.fieldValue(v, kind, false, i+2, j)
}
