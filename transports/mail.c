/*
 * mail.c - bundles by e-mail: writer, strict MIME reader, --mail and
 * --maildir inputs (mail.h, docs/transport-mail.md).
 *
 * Why a reader of our own and not gmime: we only ever need one shape of
 * message (our own, after relaying), and everything else must be refused
 * with a reason; a general MIME library is built to make sense of
 * whatever arrives, which is the opposite. The reader is a few hundred
 * lines, bounded everywhere, and fuzzed (tests/fuzz/fuzz_mail.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "transports/mail.h"
#include "base/output.h"

#define MAX_TOP_HEADERS (256 << 10)     /* relays add Received:, DKIM, ARC, spam scores */
#define MAX_PART_HEADERS (16 << 10)
#define MAX_PARTS 16
#define MAX_LINE 998                    /* RFC 5322 2.1.1 */

/* ---- writing ------------------------------------------------------------ */

int mail_addr_ok(const char *a)
{
	size_t n;

	if (!a)
		return 0;
	for (n = 0; a[n]; n++)
		if ((unsigned char)a[n] < 0x20 || (unsigned char)a[n] > 0x7e)
			return 0;
	return n >= 1 && n <= 900;
}

static int safe_name(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
		      s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return 0;
	return n >= 1 && n < 256 && s[0] != '.';
}

/* RFC 5322 date in UTC; by hand because strftime's names follow the locale */
static void mail_date(long long t, char *buf, size_t len)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(buf, len, "%s, %d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int mail_write(FILE *out, const struct mail_meta *m, int fd, sd_error *err)
{
	unsigned char rnd[16], in[57 * 64];
	char hex[33], boundary[48], date[64], line[80];
	ssize_t n;
	size_t off;

	if (!mail_addr_ok(m->to))
		return sd_fail(err, "mail: bad To: address (one line of printable ASCII)");
	if (m->from && !mail_addr_ok(m->from))
		return sd_fail(err, "mail: bad From: address (one line of printable ASCII)");
	if (!safe_name(m->filename) || !safe_name(m->site) || !safe_name(m->kind))
		return sd_fail(err, "mail: bad bundle name");
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	/* "=_" occurs neither in base64 nor in our text part, so no line of a
	 * part can begin with the boundary */
	snprintf(boundary, sizeof(boundary), "=_sitedump_%s", hex);
	mail_date(m->date, date, sizeof(date));
	if (m->from)
		fprintf(out, "From: %s\n", m->from);
	fprintf(out, "To: %s\n"
		"Subject: sitedump bundle: site %s, %s, sequence %llu\n"
		"Date: %s\n"
		"MIME-Version: 1.0\n"
		"X-Sitedump-Bundle: %s\n"
		"Content-Type: multipart/mixed;\n boundary=\"%s\"\n"
		"\n"
		"This is a MIME message carrying a sitedump bundle.\n"
		"\n"
		"--%s\n"
		"Content-Type: text/plain; charset=us-ascii\n"
		"Content-Transfer-Encoding: 7bit\n"
		"\n"
		"The attachment %s\n"
		"is a signed sitedump bundle of site %s (%s, sequence %llu),\n"
		"made %s.\n"
		"A central site imports it with siteload --mail - (a .forward or aliases\n"
		"pipe) or siteload --maildir DIR; see docs/transport-mail.md.\n"
		"\n"
		"--%s\n"
		"Content-Type: application/octet-stream; name=\"%s\"\n"
		"Content-Transfer-Encoding: base64\n"
		"Content-Disposition: attachment; filename=\"%s\"\n"
		"\n",
		m->to, m->site, m->kind, m->sequence, date, m->filename, boundary, boundary,
		m->filename, m->site, m->kind, m->sequence, date, boundary, m->filename, m->filename);
	/* 57 bytes make one 76-character base64 line */
	while ((n = out_read_full(fd, in, sizeof(in))) > 0) {
		for (off = 0; off < (size_t)n; off += 57) {
			size_t chunk = (size_t)n - off < 57 ? (size_t)n - off : 57;
			sodium_bin2base64(line, sizeof(line), in + off, chunk, sodium_base64_VARIANT_ORIGINAL);
			fputs(line, out);
			putc('\n', out);
		}
		if ((size_t)n < sizeof(in))
			break;
	}
	if (n < 0)
		return sd_fail(err, "mail: reading the bundle: %s", strerror(errno));
	fprintf(out, "--%s--\n", boundary);
	if (fflush(out) != 0 || ferror(out))
		return sd_fail(err, "mail: writing the message: %s", strerror(errno));
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

struct hdrs {
	char ctype[1024], cte[128], cdisp[1024];
	int n_ctype, n_cte, n_cdisp;
};

struct mval {
	char type[128];                 /* lowercased type/subtype, or the token */
	char boundary[71];
	int has_boundary;
	char name[256];                 /* name= or filename= when safe_name, else "" */
};

static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, size_t alen, const char *b)
{
	size_t i;

	if (strlen(b) != alen)
		return 0;
	for (i = 0; i < alen; i++)
		if (lc((unsigned char)a[i]) != b[i])
			return 0;
	return 1;
}

/* Next line (without its LF or CRLF): 1, 0 at the end, -1 too long. */
static int next_line(const char **pos, const char *end, const char **lp, size_t *ll, sd_error *err)
{
	const char *p = *pos, *nl;
	size_t n;

	if (p >= end)
		return 0;
	nl = memchr(p, '\n', (size_t)(end - p));
	n = (size_t)((nl ? nl : end) - p);
	if (n && p[n - 1] == '\r')
		n--;
	if (n > MAX_LINE)
		return sd_fail(err, "a line is longer than %d characters", MAX_LINE);
	*lp = p;
	*ll = n;
	*pos = nl ? nl + 1 : end;
	return 1;
}

static int append(char *dst, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n >= cap)
		return -1;
	memcpy(dst + *len, s, n);
	*len += n;
	dst[*len] = '\0';
	return 0;
}

/*
 * One header block, up to and including its empty line. Keeps the three
 * MIME headers, unfolded (the line breaks dropped, RFC 5322 2.2.3); every
 * other header is only checked for form.
 */
static int read_headers(const char **pos, const char *end, size_t max, int top, struct hdrs *h, sd_error *err)
{
	const char *start = *pos, *l;
	char *cur = NULL;
	size_t ll, i, cap = 0, curlen = 0;
	int r, first = 1, seen = 0, *cnt;

	memset(h, 0, sizeof(*h));
	for (;;) {
		if ((r = next_line(pos, end, &l, &ll, err)) < 0)
			return -1;
		if (r == 0)
			return sd_fail(err, top ? "no empty line after the headers" : "a part's headers end without an empty line");
		if ((size_t)(*pos - start) > max)
			return sd_fail(err, "%s headers are larger than %zu bytes", top ? "the message's" : "a part's", max);
		if (ll == 0)
			return 0;
		for (i = 0; i < ll; i++)
			if (((unsigned char)l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f)
				return sd_fail(err, "a control character in the headers");
		/* the mbox envelope line a pipe or procmail may be handed first */
		if (top && first && ll >= 5 && !memcmp(l, "From ", 5)) {
			first = 0;
			continue;
		}
		first = 0;
		if (l[0] == ' ' || l[0] == '\t') {
			if (!seen)
				return sd_fail(err, "the headers begin with a continuation line");
			if (cur && append(cur, cap, &curlen, l, ll) < 0)
				return sd_fail(err, "a MIME header is longer than %zu characters", cap - 1);
			continue;
		}
		for (i = 0; i < ll && l[i] > ' ' && l[i] < 0x7f && l[i] != ':'; i++)
			;
		if (i == 0 || i == ll || l[i] != ':')
			return sd_fail(err, "a header line without a name and a colon");
		seen = 1;
		cur = NULL;
		if (ieq(l, i, "content-type"))
			cur = h->ctype, cap = sizeof(h->ctype), cnt = &h->n_ctype;
		else if (ieq(l, i, "content-transfer-encoding"))
			cur = h->cte, cap = sizeof(h->cte), cnt = &h->n_cte;
		else if (ieq(l, i, "content-disposition"))
			cur = h->cdisp, cap = sizeof(h->cdisp), cnt = &h->n_cdisp;
		if (cur) {
			if ((*cnt)++)
				return sd_fail(err, "two %s headers", cur == h->ctype ? "Content-Type" :
					       cur == h->cte ? "Content-Transfer-Encoding" : "Content-Disposition");
			curlen = 0;
			cur[0] = '\0';
			if (append(cur, cap, &curlen, l + i + 1, ll - i - 1) < 0)
				return sd_fail(err, "a MIME header is longer than %zu characters", cap - 1);
		}
	}
}

static int is_token(int c)
{
	return c > ' ' && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

static int boundary_ok(const char *b)
{
	size_t n = strlen(b), i;

	if (n < 1 || n > 70 || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') || (b[i] >= '0' && b[i] <= '9') ||
		      strchr("'()+_,-./:=? ", b[i])))
			return 0;
	return 1;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Copies a token, lowercased when lower; returns the end or NULL if none or too long. */
static const char *token(const char *p, char *out, size_t cap, int lower)
{
	size_t n = 0;

	while (is_token((unsigned char)*p)) {
		if (n + 1 >= cap)
			return NULL;
		out[n++] = (char)(lower ? lc((unsigned char)*p) : *p);
		p++;
	}
	out[n] = '\0';
	return n ? p : NULL;
}

/*
 * A MIME header value: "type/subtype" (slash) or a token, then
 * "; attribute=value" parameters, value a token or a quoted string.
 * No comments: nothing sitedump or a relay writes has them.
 */
static int parse_value(const char *v, int slash, const char *what, struct mval *m, sd_error *err)
{
	const char *p = skip_ws(v);
	char attr[64], val[256];
	size_t n;

	memset(m, 0, sizeof(*m));
	if (!(p = token(p, m->type, sizeof(m->type), 1)))
		return sd_fail(err, "bad %s header", what);
	if (slash) {
		n = strlen(m->type);
		if (*p != '/' || !(p = token(p + 1, m->type + n + 1, sizeof(m->type) - n - 1, 1)))
			return sd_fail(err, "bad %s header (no type/subtype)", what);
		m->type[n] = '/';
	}
	for (;;) {
		p = skip_ws(p);
		if (!*p)
			return 0;
		if (*p != ';')
			return sd_fail(err, "bad %s header (junk after the value)", what);
		p = skip_ws(p + 1);
		if (!*p)
			return 0;
		if (!(p = token(p, attr, sizeof(attr), 1)) || *p != '=')
			return sd_fail(err, "bad %s header (a parameter)", what);
		p++;
		if (*p == '"') {
			for (n = 0, p++; *p && *p != '"'; p++) {
				if (*p == '\\' && !*++p)
					break;
				if (n + 1 >= sizeof(val))
					return sd_fail(err, "bad %s header (a parameter is too long)", what);
				val[n++] = *p;
			}
			if (*p != '"')
				return sd_fail(err, "bad %s header (an unterminated quoted string)", what);
			p++;
			val[n] = '\0';
		} else if (!(p = token(p, val, sizeof(val), 0))) {
			return sd_fail(err, "bad %s header (a parameter value)", what);
		}
		if (!strcmp(attr, "boundary")) {
			if (m->has_boundary++)
				return sd_fail(err, "two boundary parameters");
			if (!boundary_ok(val))
				return sd_fail(err, "bad boundary parameter");
			strcpy(m->boundary, val);
		} else if ((!strcmp(attr, "name") || !strcmp(attr, "filename")) && safe_name(val)) {
			strcpy(m->name, val);
		}
	}
}

/* Base64 with line breaks, strictly: the alphabet, padding only at the end. */
static int decode_b64(const char *s, size_t n, struct mail_bundle *b, sd_error *err)
{
	size_t i, cap = n / 4 * 3 + 3, out = 0;

	/* libsodium maps bytes >= 0x80 to alphabet values and would take a
	 * NUL for the end of the ignore set: only these characters get in */
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '+' || s[i] == '/' || s[i] == '=' || s[i] == '\r' || s[i] == '\n'))
			return sd_fail(err, "bad base64 in the bundle attachment (a character outside the alphabet)");
	if (!(b->data = malloc(cap)))
		return sd_fail(err, "out of memory");
	if (sodium_base642bin(b->data, cap, s, n, "\r\n", &out, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		mail_bundle_free(b);
		return sd_fail(err, "bad base64 in the bundle attachment (length or padding)");
	}
	if (!out) {
		mail_bundle_free(b);
		return sd_fail(err, "the bundle attachment is empty");
	}
	b->len = out;
	return 0;
}

static int cte_identity(const char *v)
{
	char t[32];
	const char *p = token(skip_ws(v), t, sizeof(t), 1);

	return p && !*skip_ws(p) && (!strcmp(t, "7bit") || !strcmp(t, "8bit") || !strcmp(t, "binary"));
}

int mail_extract(const char *msg, size_t len, struct mail_bundle *b, sd_error *err)
{
	const char *pos = msg, *end = msg + len, *l, *ls, *pbody = NULL, *bbody = NULL;
	struct hdrs h, ph;
	struct mval ct, pv;
	size_t ll, bl, blen = 0;
	int r, nparts = 0, nbundles = 0, closed = 0, bcte = 0;

	memset(b, 0, sizeof(*b));
	if (!len)
		return sd_fail(err, "an empty message");
	if (memchr(msg, 0, len))
		return sd_fail(err, "a NUL byte in the message");
	if (read_headers(&pos, end, MAX_TOP_HEADERS, 1, &h, err) < 0)
		return -1;
	if (!h.n_ctype)
		return sd_fail(err, "not a MIME message (no Content-Type header): no bundle attachment");
	if (parse_value(h.ctype, 1, "Content-Type", &ct, err) < 0)
		return -1;
	if (strcmp(ct.type, "multipart/mixed"))
		return sd_fail(err, "not a multipart/mixed message (Content-Type %.64s): no bundle attachment", ct.type);
	if (!ct.has_boundary)
		return sd_fail(err, "multipart/mixed without a boundary parameter");
	if (h.n_cte && !cte_identity(h.cte))
		return sd_fail(err, "a multipart message must not have a Content-Transfer-Encoding other than 7bit, 8bit, binary");
	bl = strlen(ct.boundary);
	for (;;) {
		const char *rest;
		size_t rl;
		int closing;

		ls = pos;
		if ((r = next_line(&pos, end, &l, &ll, err)) < 0)
			return -1;
		if (r == 0)
			break;
		if (ll < 2 + bl || l[0] != '-' || l[1] != '-' || memcmp(l + 2, ct.boundary, bl))
			continue;
		rest = l + 2 + bl;
		rl = ll - 2 - bl;
		closing = rl >= 2 && rest[0] == '-' && rest[1] == '-';
		if (closing)
			rest += 2, rl -= 2;
		while (rl && (*rest == ' ' || *rest == '\t'))
			rest++, rl--;
		if (rl)
			return sd_fail(err, "a line begins with the boundary but is not a boundary line");
		if (pbody) {
			/* the line break before a boundary line belongs to it */
			const char *pe = ls;
			if (pe > pbody && pe[-1] == '\n')
				pe--;
			if (pe > pbody && pe[-1] == '\r')
				pe--;
			if (!ph.n_ctype) {
				strcpy(pv.type, "text/plain");  /* RFC 2045 5.2 default */
				pv.name[0] = '\0';
			} else if (parse_value(ph.ctype, 1, "Content-Type", &pv, err) < 0) {
				return -1;
			}
			if (!strncmp(pv.type, "multipart/", 10))
				return sd_fail(err, "a nested multipart part (sitedump sends none)");
			if (!strcmp(pv.type, "application/octet-stream")) {
				if (++nbundles == 1) {
					struct mval dv;
					bbody = pbody;
					blen = (size_t)(pe - pbody);
					if (ph.n_cte) {
						if (parse_value(ph.cte, 0, "Content-Transfer-Encoding", &dv, err) < 0)
							return -1;
						bcte = !strcmp(dv.type, "base64");
					}
					snprintf(b->filename, sizeof(b->filename), "%s", pv.name);
					if (ph.n_cdisp) {
						if (parse_value(ph.cdisp, 0, "Content-Disposition", &dv, err) < 0)
							return -1;
						if (dv.name[0])
							snprintf(b->filename, sizeof(b->filename), "%s", dv.name);
					}
				}
			} else if (strncmp(pv.type, "text/", 5)) {
				return sd_fail(err, "a part of type %.64s (a sitedump message has text and one "
					       "application/octet-stream bundle)", pv.type);
			}
		}
		if (closing) {
			closed = 1;
			break;
		}
		if (++nparts > MAX_PARTS)
			return sd_fail(err, "more than %d MIME parts", MAX_PARTS);
		if (read_headers(&pos, end, MAX_PART_HEADERS, 0, &ph, err) < 0)
			return -1;
		pbody = pos;
	}
	if (!closed)
		return sd_fail(err, pbody ? "truncated: the closing boundary line is missing"
				   : "no MIME parts: the boundary line never appears");
	if (nbundles == 0)
		return sd_fail(err, "no bundle attachment (no application/octet-stream part)");
	if (nbundles > 1)
		return sd_fail(err, "%d bundle attachments (want exactly one)", nbundles);
	if (!bcte)
		return sd_fail(err, "the bundle attachment is not base64 (Content-Transfer-Encoding)");
	return decode_b64(bbody, blen, b, err);
}

void mail_bundle_free(struct mail_bundle *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

/* ---- siteload: --mail and --maildir ------------------------------------- */

/* The whole of fd, up to max bytes: 0, 1 when larger, -1 I/O error. */
static int read_all(int fd, size_t max, char **out, size_t *len, sd_error *err)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	if (!buf)
		return sd_fail(err, "out of memory");
	for (;;) {
		if (n == cap) {
			/* at most max + 1 bytes: one more than allowed tells "too large" */
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if (!(nb = realloc(buf, cap))) {
				free(buf);
				return sd_fail(err, "out of memory");
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return sd_fail(err, "reading the message: %s", strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(buf);
			return 1;
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The bundle into an unlinked file; its /dev/fd path is what import_run opens. */
static int bundle_file(const struct mail_bundle *b, char *path, size_t plen, sd_error *err)
{
	int fd = out_anon_file(NULL, err);

	if (fd < 0)
		return -1;
	if (out_write_all(fd, b->data, b->len) < 0) {
		sd_fail(err, "writing a temp file: %s", strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(path, plen, "/dev/fd/%d", fd);
	return fd;
}

static void say(const struct handoff *o, const char *what, const char *why)
{
	if (o->report)
		o->report(o->ctx, what, why);
}

int mail_import_message(const struct handoff *o, const char *path, sd_error *err)
{
	const char *what = strcmp(path, "-") ? path : "message on stdin";
	char *msg = NULL, bpath[32], *paths[1], why[SD_ERRLEN + 16];
	struct mail_bundle b;
	size_t len;
	sd_error e = { "" };
	int fd = 0, bfd, r;

	if (strcmp(path, "-") && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		sd_fail(err, "%s: %s", path, strerror(errno));
		return 2;
	}
	r = read_all(fd, MAIL_MAX_MESSAGE, &msg, &len, err);
	if (fd)
		close(fd);
	if (r < 0)
		return 2;
	if (r > 0) {
		say(o, what, "refused: larger than 64 MiB");
		return 1;
	}
	r = mail_extract(msg, len, &b, &e);
	free(msg);
	if (r < 0) {
		snprintf(why, sizeof(why), "refused: %s", e.msg);
		say(o, what, why);
		return 1;
	}
	bfd = bundle_file(&b, bpath, sizeof(bpath), err);
	mail_bundle_free(&b);
	if (bfd < 0)
		return 2;
	paths[0] = bpath;
	r = o->run(o, paths, 1, err);
	close(bfd);
	return r;
}

/* -- Maildir -- */

struct md_msg {
	const char *sub;                /* "new" or "cur" */
	char *name;
	int bfd;                        /* the extracted bundle, -1 */
	char path[32];                  /* its /dev/fd path, given to import_run */
	int has_outcome;
	enum import_outcome oc;
	char reason[SD_ERRLEN];
};

struct md_ctx {
	const struct handoff *o;
	struct md_msg *m;
	int from, to;                   /* the slice in import_run */
	int called;
};

static void md_report(void *ctx, const char *what, const char *why)
{
	struct md_ctx *c = ctx;
	say(c->o, what, why);
}

static void md_info(void *ctx, const char *line)
{
	struct md_ctx *c = ctx;
	if (c->o->info)
		c->o->info(c->o->ctx, line);
}

static void md_outcome(void *ctx, const char *path, enum import_outcome oc, const char *reason)
{
	struct md_ctx *c = ctx;
	int i;

	c->called = 1;
	for (i = c->from; i < c->to; i++)
		if (c->m[i].bfd >= 0 && !strcmp(c->m[i].path, path)) {
			c->m[i].has_outcome = 1;
			c->m[i].oc = oc;
			snprintf(c->m[i].reason, sizeof(c->m[i].reason), "%s", reason ? reason : "");
		}
}

static int md_cmp(const void *x, const void *y)
{
	const struct md_msg *a = x, *b = y;
	return strcmp(a->name, b->name);
}

/* Maildir names start with the delivery time: name order is arrival order. */
static int md_list(int dfd, const char *sub, struct md_msg **v, int *n, int *cap, sd_error *err)
{
	int fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return sd_fail(err, "%s/: %s", sub, strerror(errno));
	}
	while ((de = readdir(d))) {
		const char *info = strstr(de->d_name, ":2,");

		if (de->d_name[0] == '.')
			continue;
		if (!strcmp(sub, "cur") && info && strchr(info + 3, 'S'))
			continue;       /* seen: done by us, or read by someone */
		if (*n == *cap) {
			struct md_msg *nv = realloc(*v, (size_t)(*cap ? *cap * 2 : 64) * sizeof(**v));
			if (!nv) {
				closedir(d);
				return sd_fail(err, "out of memory");
			}
			*v = nv;
			*cap = *cap ? *cap * 2 : 64;
		}
		memset(&(*v)[*n], 0, sizeof(**v));
		(*v)[*n].sub = sub;
		(*v)[*n].bfd = -1;
		if (!((*v)[*n].name = strdup(de->d_name))) {
			closedir(d);
			return sd_fail(err, "out of memory");
		}
		(*n)++;
	}
	closedir(d);
	return 0;
}

static void fsync_dir(int dfd, const char *sub)
{
	int fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* The name without its ":2,FLAGS" (Maildir's info part starts at ':'). */
static size_t md_base(const char *name)
{
	return strcspn(name, ":");
}

/* cur/BASE:2,FLAGS plus S; flags stay in ASCII order, as the spec asks. */
static int md_seen(int dfd, const struct md_msg *m, char *to, size_t tolen, sd_error *err)
{
	const char *info = strstr(m->name, ":2,");
	char flags[64] = "", from[600], *p;
	size_t base = md_base(m->name), fl = 0;

	if (info) {
		for (p = (char *)info + 3; *p && fl < sizeof(flags) - 2; p++)
			if (*p > ' ' && *p < 0x7f && *p != 'S' && *p != '/')
				flags[fl++] = *p;
	}
	flags[fl] = '\0';
	p = flags;
	while (*p && *p < 'S')
		p++;
	memmove(p + 1, p, strlen(p) + 1);
	*p = 'S';
	snprintf(from, sizeof(from), "%s/%s", m->sub, m->name);
	if ((size_t)snprintf(to, tolen, "cur/%.*s:2,%s", (int)base, m->name, flags) >= tolen)
		return sd_fail(err, "%s: name too long", from);
	if (renameat(dfd, from, dfd, to) < 0)
		return sd_fail(err, "%s: rename to %s: %s", from, to, strerror(errno));
	fsync_dir(dfd, "cur");
	if (strcmp(m->sub, "cur"))
		fsync_dir(dfd, m->sub);
	return 0;
}

static int md_folder(int dfd, sd_error *err)
{
	static const char *const dirs[] = { ".rejected", ".rejected/tmp", ".rejected/new", ".rejected/cur" };
	size_t i;
	int fd;

	for (i = 0; i < sizeof(dirs) / sizeof(*dirs); i++)
		if (mkdirat(dfd, dirs[i], 0700) < 0 && errno != EEXIST)
			return sd_fail(err, "%s: %s", dirs[i], strerror(errno));
	/* Maildir++: marks a folder for Dovecot and Courier */
	if ((fd = openat(dfd, ".rejected/maildirfolder", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0)
		close(fd);
	return 0;
}

/*
 * Refused: a copy with the reason on top goes to .rejected/cur/ (unseen,
 * so a mail client shows it as new), then the original goes. The reason
 * is made one line of printable ASCII: it may quote the message.
 */
static int md_reject(int dfd, const struct md_msg *m, const char *reason, char *to, size_t tolen, sd_error *err)
{
	char from[600], tmp[600], hdr[960], buf[1 << 16];
	size_t base = md_base(m->name), i, n;
	ssize_t r;
	int src = -1, dst = -1, first = 1, crlf = 0;

	snprintf(from, sizeof(from), "%s/%s", m->sub, m->name);
	if (md_folder(dfd, err) < 0)
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), ".rejected/tmp/%.*s", (int)base, m->name) >= sizeof(tmp) ||
	    (size_t)snprintf(to, tolen, ".rejected/cur/%.*s:2,", (int)base, m->name) >= tolen)
		return sd_fail(err, "%s: name too long", from);
	n = (size_t)snprintf(hdr, sizeof(hdr), "X-Sitedump-Rejected: %.900s", reason);
	for (i = 21; i < n; i++)
		if ((unsigned char)hdr[i] < 0x20 || (unsigned char)hdr[i] > 0x7e)
			hdr[i] = '?';
	if ((src = openat(dfd, from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		sd_fail(err, "%s: %s", from, strerror(errno));
		goto fail;
	}
	unlinkat(dfd, tmp, 0);  /* left by a run that died */
	if ((dst = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		sd_fail(err, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	while ((r = read(src, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sd_fail(err, "%s: %s", from, strerror(errno));
			goto fail;
		}
		if (first) {
			/* the header takes the message's own line ends */
			const char *nl = memchr(buf, '\n', (size_t)r);
			crlf = nl && nl > buf && nl[-1] == '\r';
			strcpy(hdr + n, crlf ? "\r\n" : "\n");
			if (out_write_all(dst, hdr, n + (crlf ? 2 : 1)) < 0)
				goto wfail;
			first = 0;
		}
		if (out_write_all(dst, buf, (size_t)r) < 0)
			goto wfail;
	}
	if (first && out_write_all(dst, strcat(hdr, "\n"), n + 1) < 0)
		goto wfail;
	if (fsync(dst) < 0 || close(dst) < 0) {
		dst = -1;
		goto wfail;
	}
	dst = -1;
	close(src);
	src = -1;
	if (renameat(dfd, tmp, dfd, to) < 0) {
		sd_fail(err, "%s: rename to %s: %s", tmp, to, strerror(errno));
		goto fail;
	}
	fsync_dir(dfd, ".rejected/cur");
	if (unlinkat(dfd, from, 0) < 0)
		return sd_fail(err, "%s: %s (a copy is in %s)", from, strerror(errno), to);
	fsync_dir(dfd, m->sub);
	return 0;
wfail:
	sd_fail(err, "%s: %s", tmp, strerror(errno));
fail:
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	unlinkat(dfd, tmp, 0);
	return -1;
}

/* File one refused message (or only say so in a dry run); status 1, 2 if it stays. */
static int md_refuse(const struct handoff *o, int dfd, const struct md_msg *m, const char *reason)
{
	char what[600], to[600], why[SD_ERRLEN + 700];
	sd_error e = { "" };
	/* import's reasons may say "refused:" already */
	const char *pfx = strncmp(reason, "refused", 7) ? "refused: " : "";

	snprintf(what, sizeof(what), "maildir %s/%s", m->sub, m->name);
	if (o->dry_run) {
		snprintf(why, sizeof(why), "%s%s (dry run: not moved)", pfx, reason);
		say(o, what, why);
		return 1;
	}
	if (md_reject(dfd, m, reason, to, sizeof(to), &e) < 0) {
		snprintf(why, sizeof(why), "%s%s; could not move it: %s", pfx, reason, e.msg);
		say(o, what, why);
		return 2;
	}
	snprintf(why, sizeof(why), "%s%s; moved to %s", pfx, reason, to);
	say(o, what, why);
	return 1;
}

static int md_take(const struct handoff *o, int dfd, struct md_msg *m, sd_error *err)
{
	char from[600], *msg = NULL;
	struct mail_bundle b;
	struct stat st;
	size_t len;
	sd_error e = { "" };
	int fd, r;

	snprintf(from, sizeof(from), "%s/%s", m->sub, m->name);
	if ((fd = openat(dfd, from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		sd_fail(err, "%s", strerror(errno));
		return 2;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sd_fail(err, "not a regular file");
		close(fd);
		return 2;
	}
	r = read_all(fd, MAIL_MAX_MESSAGE, &msg, &len, err);
	close(fd);
	if (r < 0)
		return 2;
	if (r > 0)
		return md_refuse(o, dfd, m, "larger than 64 MiB");
	r = mail_extract(msg, len, &b, &e);
	free(msg);
	if (r < 0)
		return md_refuse(o, dfd, m, e.msg);
	m->bfd = bundle_file(&b, m->path, sizeof(m->path), err);
	mail_bundle_free(&b);
	return m->bfd < 0 ? 2 : 0;
}

int mail_import_maildir(const struct handoff *o, const char *dir, sd_error *err)
{
	struct handoff io = *o;
	struct md_ctx c = { o, NULL, 0, 0, 0 };
	struct md_msg *v = NULL;
	char **paths = NULL, what[600], line[1400], to[600];
	sd_error e;
	int dfd, n = 0, cap = 0, i, np, status = 0, r;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		sd_fail(err, "%s: %s", dir, strerror(errno));
		return 2;
	}
	if (faccessat(dfd, "new", F_OK, 0) < 0 || faccessat(dfd, "cur", F_OK, 0) < 0 || faccessat(dfd, "tmp", F_OK, 0) < 0) {
		sd_fail(err, "%s: not a Maildir (no new/, cur/ and tmp/)", dir);
		close(dfd);
		return 2;
	}
	/* a second run (cron overlap) would import the same messages and file
	 * them as replays: it waits for this one */
	if (flock(dfd, LOCK_EX) < 0) {
		sd_fail(err, "%s: lock: %s", dir, strerror(errno));
		close(dfd);
		return 2;
	}
	if (md_list(dfd, "new", &v, &n, &cap, err) < 0 || md_list(dfd, "cur", &v, &n, &cap, err) < 0) {
		status = -1;
		goto out;
	}
	if (n)
		qsort(v, (size_t)n, sizeof(*v), md_cmp);
	if (n && !(paths = calloc(MAIL_MAILDIR_BATCH, sizeof(*paths)))) {
		sd_fail(err, "out of memory");
		status = -1;
		goto out;
	}
	io.report = md_report;
	io.info = md_info;
	io.outcome = md_outcome;
	io.ctx = &c;
	c.m = v;
	for (c.from = 0; c.from < n; c.from = c.to) {
		c.to = c.from + MAIL_MAILDIR_BATCH < n ? c.from + MAIL_MAILDIR_BATCH : n;
		for (np = 0, i = c.from; i < c.to; i++) {
			e.msg[0] = '\0';
			if ((r = md_take(o, dfd, &v[i], &e)) > status)
				status = r;
			if (r == 2) {
				snprintf(what, sizeof(what), "maildir %s/%s", v[i].sub, v[i].name);
				snprintf(line, sizeof(line), "%s; left in place", e.msg);
				say(o, what, line);
			}
			if (v[i].bfd >= 0)
				paths[np++] = v[i].path;
		}
		if (!np)
			continue;
		c.called = 0;
		e.msg[0] = '\0';
		r = io.run(&io, paths, np, &e);
		if (r > status)
			status = r;
		if (!c.called) {
			/* the run itself failed (lock, key, the core): everything stays */
			snprintf(err->msg, sizeof(err->msg), "%s; the messages stay in %s", e.msg[0] ? e.msg : "import failed", dir);
			status = -1;
			goto out;
		}
		for (i = c.from; i < c.to; i++) {
			struct md_msg *m = &v[i];

			if (m->bfd < 0)
				continue;
			snprintf(what, sizeof(what), "maildir %s/%s", m->sub, m->name);
			if (!m->has_outcome) {
				say(o, what, "no outcome from the import; left in place");
				status = 2;
			} else if (m->oc == IMPORT_APPLIED || m->oc == IMPORT_SKIPPED) {
				e.msg[0] = '\0';
				if (o->dry_run) {
					snprintf(line, sizeof(line), "%s: %s (dry run: not moved)", what,
						 m->oc == IMPORT_APPLIED ? "applied" : "superseded");
				} else if (md_seen(dfd, m, to, sizeof(to), &e) < 0) {
					snprintf(line, sizeof(line), "%s", e.msg);
					say(o, what, line);
					status = 2;
					continue;
				} else {
					snprintf(line, sizeof(line), "%s: %s; moved to %s", what,
						 m->oc == IMPORT_APPLIED ? "applied" : "superseded by a newer bundle", to);
				}
				if (o->info)
					o->info(o->ctx, line);
			} else if (m->oc == IMPORT_REJECTED || m->oc == IMPORT_OLD) {
				if ((r = md_refuse(o, dfd, m, m->reason)) > status)
					status = r;
			} else {
				snprintf(line, sizeof(line), "not applied now: %s; left in place for the next run", m->reason);
				say(o, what, line);
				status = 2;
			}
		}
		for (i = c.from; i < c.to; i++)
			if (v[i].bfd >= 0) {
				close(v[i].bfd);
				v[i].bfd = -1;
			}
	}
out:
	for (i = 0; i < n; i++) {
		if (v[i].bfd >= 0)
			close(v[i].bfd);
		free(v[i].name);
	}
	free(v);
	free(paths);
	close(dfd);     /* and with it the lock */
	return status < 0 ? 2 : status;
}
