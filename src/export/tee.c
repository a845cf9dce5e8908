/*
 * tee.c - fan one record stream out to several sinks. A record one sink
 * skips (e.g. a name Nagios cannot define) may still be fine for another,
 * so a skip is reported per sink and the others go on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "export/tee.h"

struct tee {
	struct sd_sink sink;
	struct sd_sink *outs[TEE_MAX];
	const char *names[TEE_MAX];
	int n;
	struct tee_counts counts;
};

/* Run cb on every sink; -1 stops, 1 (skipped) is reported and ignored.
 * `what` is an expression evaluated only for a skip: building an
 * object's label for every record was 2% of a 50k-service bundle. */
#define FAN(t, field, rec, what)                                                        \
	do {                                                                            \
		int i_, rc_;                                                            \
		for (i_ = 0; i_ < (t)->n; i_++) {                                      \
			struct sd_sink *o_ = (t)->outs[i_];                             \
			if (!o_->field)                                                 \
				continue;                                               \
			rc_ = o_->field(o_->ctx, rec, err);                             \
			if (rc_ < 0)                                                    \
				return -1;                                              \
			if (rc_ == 1) {                                                 \
				char why_[SD_ERRLEN + 64];                              \
				snprintf(why_, sizeof(why_), "not in %s: %s", (t)->names[i_], err->msg); \
				if ((t)->sink.skipped)                                  \
					(t)->sink.skipped((t)->sink.report_ctx, what, why_); \
				err->msg[0] = '\0';                                     \
			}                                                               \
		}                                                                       \
	} while (0)

static int t_begin(void *ctx, const struct sd_meta *m, sd_error *err)
{
	struct tee *t = ctx;

	FAN(t, begin, m, "begin");
	return 0;
}

static int t_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct tee *t = ctx;
	char label[600];

	FAN(t, group, g,
	    (snprintf(label, sizeof(label), "%s '%s'", g->type == SD_HOST ? "hostgroup" : "servicegroup", g->name),
	     label));
	return 0;
}

static int t_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct tee *t = ctx;
	char label[600];

	FAN(t, object, o, sd_object_label(o, label, sizeof(label)));
	if (o->type == SD_HOST)
		t->counts.hosts++;
	else
		t->counts.services++;
	return 0;
}

static int t_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct tee *t = ctx;

	FAN(t, downtime, d, "downtime");
	t->counts.downtimes++;
	return 0;
}

static int t_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	struct tee *t = ctx;

	FAN(t, comment, c, "comment");
	t->counts.comments++;
	return 0;
}

static int t_end(void *ctx, sd_error *err)
{
	struct tee *t = ctx;
	int i;

	for (i = 0; i < t->n; i++)
		if (t->outs[i]->end && t->outs[i]->end(t->outs[i]->ctx, err) < 0)
			return -1;
	return 0;
}

struct sd_sink *tee_new(struct sd_sink *const *outs, const char *const *names, int n)
{
	struct tee *t;
	int i;

	if (n > TEE_MAX || !(t = calloc(1, sizeof(*t))))
		return NULL;
	for (i = 0; i < n; i++) {
		t->outs[i] = outs[i];
		t->names[i] = names[i];
	}
	t->n = n;
	t->sink.ctx = t;
	t->sink.begin = t_begin;
	t->sink.group = t_group;
	t->sink.object = t_object;
	t->sink.downtime = t_downtime;
	t->sink.comment = t_comment;
	t->sink.end = t_end;
	return &t->sink;
}

const struct tee_counts *tee_counts(const struct sd_sink *tee)
{
	return &((const struct tee *)tee)->counts;
}

void tee_free(struct sd_sink *tee)
{
	free(tee);
}
