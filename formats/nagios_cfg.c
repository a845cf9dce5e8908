/*
 * nagios_cfg.c - the five paths siteload takes from a core's main config.
 *
 * Why read the core's file at all: the admin already wrote down where the
 * command pipe, the check result spool, status.dat, objects.cache and the
 * object directories are; a second copy in siteload's options drifts
 * (Debian's objects.cache is in /var/lib/nagios4, not /var/cache). The
 * rules are the core's own (Naemon's read_config_file: strip, '#', first
 * '=', backslash continuation, paths relative to the file's directory), so
 * siteload sees what the core sees. Only these keys are checked: the
 * rest of the file is the core's business, but a line that is no
 * key=value at all is refused, since the core refuses it too.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/nagios_cfg.h"

#define NAGIOS_CFG_MAX (16 << 20)

struct cfgparse {
	struct nagios_cfg *cfg;
	const char *name;
	char *base;             /* directory relative paths start from ("" = the current one) */
	int line;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char *strip(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n && is_blank(s[n - 1]))
		s[--n] = 0;
	return s;
}

/* value as the core resolves it: absolute, or from p->base */
static char *resolve(const struct cfgparse *p, const char *value)
{
	size_t bl = strlen(p->base);
	char *s;

	if (value[0] == '/' || !bl)
		return strdup(value);
	if (asprintf(&s, "%s%s%s", p->base, p->base[bl - 1] == '/' ? "" : "/", value) < 0)
		return NULL;
	return s;
}

/* one of the keys we take: *slot (or a new cfg_dir) becomes the path */
static int take(struct cfgparse *p, const char *key, const char *value, char **slot, sd_error *err)
{
	char *path, **v;
	size_t i;

	if (!*value)
		return sd_fail(err, "%s:%d: %s has no value", p->name, p->line, key);
	for (i = 0; value[i]; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return sd_fail(err, "%s:%d: %s: a control character in the path", p->name, p->line, key);
	if (!(path = resolve(p, value)))
		return sd_fail(err, "out of memory");
	if (strlen(path) >= PATH_MAX) {
		free(path);
		return sd_fail(err, "%s:%d: %s: path longer than %d bytes", p->name, p->line, key, PATH_MAX - 1);
	}
	i = strlen(path);
	if (i > 1 && path[i - 1] == '/' && slot == &p->cfg->check_result_path)
		path[i - 1] = 0;        /* the core drops it too */
	if (slot) {
		free(*slot);
		*slot = path;
		return 0;
	}
	if (!(v = realloc(p->cfg->cfg_dirs, (p->cfg->n_cfg_dirs + 2) * sizeof(*v)))) {
		free(path);
		return sd_fail(err, "out of memory");
	}
	p->cfg->cfg_dirs = v;
	v[p->cfg->n_cfg_dirs++] = path;
	v[p->cfg->n_cfg_dirs] = NULL;
	return 0;
}

/* one logical line, in place */
static int line_do(struct cfgparse *p, char *s, sd_error *err)
{
	struct nagios_cfg *c = p->cfg;
	char *eq, *key, *value;

	s = strip(s);
	if (!*s || *s == '#')
		return 0;
	if (!(eq = strchr(s, '=')))
		return sd_fail(err, "%s:%d: not a key=value line", p->name, p->line);
	*eq = 0;
	key = strip(s);
	value = strip(eq + 1);
	if (!*key)
		return sd_fail(err, "%s:%d: no key before '='", p->name, p->line);
	if (!strcmp(key, "command_file"))
		return take(p, key, value, &c->command_file, err);
	if (!strcmp(key, "check_result_path"))
		return take(p, key, value, &c->check_result_path, err);
	if (!strcmp(key, "status_file"))
		return take(p, key, value, &c->status_file, err);
	if (!strcmp(key, "object_cache_file"))
		return take(p, key, value, &c->object_cache_file, err);
	if (!strcmp(key, "cfg_dir"))
		return take(p, key, value, NULL, err);
	if (!strcmp(key, "config_rel_path")) {
		char *b = NULL;
		if (take(p, key, value, &b, err) < 0)
			return -1;
		free(p->base);
		p->base = b;
	}
	return 0;
}

/* the directory of name: "" when it has no '/' (the current one) */
static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');

	if (!slash)
		return strdup("");
	if (slash == name)
		return strdup("/");
	return strndup(name, (size_t)(slash - name));
}

int nagios_cfg_parse(const char *text, size_t len, const char *name, struct nagios_cfg *cfg, sd_error *err)
{
	struct cfgparse p = { .cfg = cfg, .name = name, .line = 0 };
	char *buf = malloc(len + 1);
	size_t i = 0, n;
	int phys = 0, rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (!buf || !(p.base = dir_of(name)) || !(cfg->cfg_dirs = calloc(1, sizeof(*cfg->cfg_dirs)))) {
		free(buf);
		free(p.base);
		free(cfg->cfg_dirs);
		cfg->cfg_dirs = NULL;
		return sd_fail(err, "out of memory");
	}
	while (i < len && rc == 0) {
		/* a logical line: physical lines joined while one ends in '\' */
		p.line = phys + 1;
		n = 0;
		for (;;) {
			const char *nl = memchr(text + i, '\n', len - i);
			size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
			phys++;
			if (memchr(text + i, 0, l)) {
				rc = sd_fail(err, "%s:%d: a NUL byte", name, phys);
				break;
			}
			memcpy(buf + n, text + i, l);
			n += l;
			i += l + (nl ? 1 : 0);
			if (n && buf[n - 1] == '\\' && i < len)
				n--;    /* continued */
			else
				break;
		}
		buf[n] = 0;
		if (rc == 0)
			rc = line_do(&p, buf, err);
	}
	free(buf);
	free(p.base);
	if (rc < 0)
		nagios_cfg_free(cfg);
	return rc;
}

int nagios_cfg_load(const char *path, struct nagios_cfg *cfg, sd_error *err)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!f)
		return sd_fail(err, "%s: %s", path, strerror(errno));
	do {
		if (len == cap) {
			char *t;
			cap = cap ? 2 * cap : 65536;
			if (cap > NAGIOS_CFG_MAX + 1 || !(t = realloc(text, cap))) {
				fclose(f);
				free(text);
				return cap > NAGIOS_CFG_MAX + 1 ? sd_fail(err, "%s: larger than 16 MiB: not a main config", path)
					: sd_fail(err, "out of memory");
			}
			text = t;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got);
	if (ferror(f)) {
		rc = sd_fail(err, "%s: %s", path, strerror(errno));
		fclose(f);
		free(text);
		return rc;
	}
	fclose(f);
	rc = nagios_cfg_parse(text ? text : "", len, path, cfg, err);
	free(text);
	return rc;
}

void nagios_cfg_free(struct nagios_cfg *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->command_file);
	free(cfg->check_result_path);
	free(cfg->status_file);
	free(cfg->object_cache_file);
	for (i = 0; i < cfg->n_cfg_dirs; i++)
		free(cfg->cfg_dirs[i]);
	free(cfg->cfg_dirs);
	memset(cfg, 0, sizeof(*cfg));
}
