/*
 * writers.c - a writer by its format (writers.h). Here, in formats/, as
 * the lowest layer that sees every writer and that both tools reach.
 */
#include "formats/checkresult.h"
#include "formats/icinga2_dsl.h"
#include "formats/nagios_objects.h"
#include "formats/snapshot_json.h"
#include "formats/writers.h"

enum writer_format writer_format_of_core(enum sd_core core)
{
	return core == CORE_NAGIOS ? WRITER_NAGIOS : WRITER_ICINGA2;
}

struct sd_sink *writers_new(enum writer_format f, FILE *out, const struct writer_opts *wo)
{
	switch (f) {
	case WRITER_JSON: return snapshot_json_writer_new(out, wo);
	case WRITER_NAGIOS: return nagios_objects_writer_new(out, wo);
	case WRITER_ICINGA2: return icinga2_writer_new(out, wo);
	default: return checkresult_writer_new(out, wo);
	}
}

void writers_free(enum writer_format f, struct sd_sink *s)
{
	switch (f) {
	case WRITER_JSON: snapshot_json_writer_free(s); break;
	case WRITER_NAGIOS: nagios_objects_writer_free(s); break;
	case WRITER_ICINGA2: icinga2_writer_free(s); break;
	default: checkresult_writer_free(s); break;
	}
}
