#!/bin/sh
# validate.sh - check the config writers' golden files with the real daemons.
#
# The unit test (tests/unit/test_config_writers) asserts that the writers
# produce exactly these files; this script asserts that Nagios 4 and Icinga 2
# accept them, on private instances (every path in a temp dir, nothing shared
# with a system instance). Two remotes are loaded together, r1 with templates
# and r2 without (-G), as on a central with several remotes.
#
# Nagios is also checked for the precache round trip that OMD-style starts
# use (nagios -vp, then -u) and that the CGIs do with objects.cache: the
# precache must itself validate and re-precache to the same objects, so no
# value changes when Nagios reads back what it wrote.
#
# usage: tests/data/config/validate.sh   (needs nagios4 and icinga2; exit 0 = ok)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
NAGIOS=${NAGIOS:-nagios4}
ICINGA2=${ICINGA2:-icinga2}
T=$(mktemp -d "${TMPDIR:-/tmp}/sitedump-validate.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0

# ---------------------------------------------------------------- Nagios 4
# The central's own objects that the dumps refer to (contacts).
cat > "$T/central.cfg" <<'EOF'
define command {
    command_name    notify-none
    command_line    /bin/true
}
define timeperiod {
    timeperiod_name central-24x7
    alias           central 24x7
    monday          00:00-24:00
}
define contact {
    contact_name                    admin
    host_notification_period        central-24x7
    service_notification_period     central-24x7
    host_notification_commands      notify-none
    service_notification_commands   notify-none
}
define contactgroup {
    contactgroup_name   admins
    members             admin
}
EOF

nagios_cfg() {  # $1 = cfg file, $2.. = object files
	cfg=$1; shift
	mkdir -p "$T/n/spool" "$T/n/tmp"
	{
		for f in "$@"; do echo "cfg_file=$f"; done
		cat <<EOF
log_file=$T/n/nagios.log
object_cache_file=$T/n/objects.cache
precached_object_file=$T/n/objects.precache
status_file=$T/n/status.dat
command_file=$T/n/nagios.cmd
query_socket=$T/n/nagios.qh
lock_file=$T/n/nagios.lock
temp_file=$T/n/nagios.tmp
temp_path=$T/n/tmp
check_result_path=$T/n/spool
state_retention_file=$T/n/retention.dat
debug_file=$T/n/debug.log
nagios_user=$(id -un)
nagios_group=$(id -gn)
illegal_object_name_chars=\`~!\$%^&*|'"<>?,()=
illegal_macro_output_chars=\`~\$&|'"<>
EOF
	} > "$cfg"
}

nagios_verify() {  # $1 = label, $2 = cfg; precaches into $T/n/objects.precache
	rm -f "$T/n/objects.precache"
	if "$NAGIOS" -vp "$2" > "$T/n/verify.out" 2>&1; then
		echo "ok   nagios4 -vp ($1): $(grep -E '^Total (Warnings|Errors)' "$T/n/verify.out" | tr -s ' \n' ' ')"
		grep -E '^(Warning|Error)' "$T/n/verify.out" | sed 's/^/       /' | head -20
	else
		echo "FAIL nagios4 -vp ($1):"
		grep -E '^(Warning|Error)|Total' "$T/n/verify.out" | sed 's/^/       /'
		fail=1
	fi
}

# Nagios writes parents in reverse order on every pass (no meaning): sort them.
norm_parents() {
	awk -F'\t' '$2 == "parents" { n = split($3, a, ","); for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		s = a[1]; for (i = 2; i <= n; i++) s = s "," a[i]; print "\tparents\t" s; next } { print }' "$1"
}

nagios_cfg "$T/nagios.cfg" "$T/central.cfg" "$HERE/nagios_r1.cfg" "$HERE/nagios_r2.cfg"
nagios_verify "central + nagios_r1.cfg + nagios_r2.cfg" "$T/nagios.cfg"
grep -E 'Checked [0-9]+ (hosts|services|host groups|service groups)\.' "$T/n/verify.out" | sed 's/^[[:space:]]*/       /'
cp "$T/n/objects.precache" "$T/precache1.cfg" 2>/dev/null || : > "$T/precache1.cfg"

# Round trip: the precache as the only object file must validate and give
# the same precache again (it holds the values as Nagios read them).
nagios_cfg "$T/nagios2.cfg" "$T/precache1.cfg"
nagios_verify "its precache, re-read" "$T/nagios2.cfg"
norm_parents "$T/precache1.cfg" > "$T/p1"
norm_parents "$T/n/objects.precache" > "$T/p2" 2>/dev/null || : > "$T/p2"
if [ -s "$T/p1" ] && cmp -s "$T/p1" "$T/p2"; then
	echo "ok   the precache is a fixed point (re-read gives the same objects)"
else
	echo "FAIL precache changed on re-read:"
	diff "$T/p1" "$T/p2" | head -20 | sed 's/^/       /'
	fail=1
fi
# Spot checks of what the core read (the values Livestatus will show).
for want in \
	'	notes	first line second line； with semicolon＼' \
	'	alias	padded alias' \
	'	_QUOTES	say "hi" \ back $USER1$ {{{ }}} \$' \
	'	_ENDS	C:\temp＼' \
	'	_SITEDUMP_CHECK_COMMAND	check_nrpe!-c check_load -a '"'"'15；10；5'"'"'' \
	'	service_description	Ümlaut-Dienst €' \
	'	host_name	r1- lead'
do
	if grep -qxF "$want" "$T/precache1.cfg"; then
		printf 'ok   nagios value: %s\n' "$want"
	else
		printf 'FAIL nagios value missing: %s\n' "$want"
		fail=1
	fi
done

# ---------------------------------------------------------------- Icinga 2
mkdir -p "$T/i/lib" "$T/i/log" "$T/i/cache" "$T/i/spool" "$T/i/run"
icinga_check() {  # $1 = label, $2 = conf
	if ICINGA2_USER=$(id -un) ICINGA2_GROUP=$(id -gn) "$ICINGA2" daemon -C -c "$2" \
		-DConfiguration.DataDir="$T/i/lib" -DConfiguration.LogDir="$T/i/log" \
		-DConfiguration.CacheDir="$T/i/cache" -DConfiguration.SpoolDir="$T/i/spool" \
		-DConfiguration.InitRunDir="$T/i/run" -DConfiguration.PidPath="$T/i/run/icinga2.pid" \
		-DConfiguration.RunAsUser="$(id -un)" -DConfiguration.RunAsGroup="$(id -gn)" \
		> "$T/i/check.out" 2>&1; then
		echo "ok   icinga2 daemon -C ($1)"
		grep -aE 'Instantiated [0-9]+ (Hosts?|Services?|HostGroups?|ServiceGroups?|CheckCommands?)\.?$' \
			"$T/i/check.out" | sed 's/.*Instantiated/       instantiated/'
		grep -aE 'warning/|critical/' "$T/i/check.out" | sed 's/^/       /' | head -10
	else
		echo "FAIL icinga2 daemon -C ($1):"
		grep -aE 'critical/|^Location' "$T/i/check.out" | head -20 | sed 's/^/       /'
		fail=1
	fi
}

printf 'include "%s"\ninclude "%s"\n' "$HERE/icinga2_r1.conf" "$HERE/icinga2_r2.conf" > "$T/icinga2.conf"
icinga_check "icinga2_r1.conf + icinga2_r2.conf, without the ITL" "$T/icinga2.conf"

# As on a stock central (/etc/icinga2/icinga2.conf): constants, ITL, plugin commands.
cat > "$T/icinga2-itl.conf" <<EOF
const PluginDir = "/usr/lib/nagios/plugins"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
include <itl>
include <plugins>
include <plugins-contrib>
include <manubulon>
include <windows-plugins>
include <nscp>
include "$HERE/icinga2_r1.conf"
include "$HERE/icinga2_r2.conf"
EOF
icinga_check "the same with the ITL and all plugin command sets" "$T/icinga2-itl.conf"

# Spot checks of what Icinga read: the -C run's object cache (netstrings of
# JSON); `icinga2 object list` would not read a private CacheDir.
cat > "$T/check.py" <<'EOF'
import json, sys
data = open(sys.argv[1], 'rb').read()
objs, i = {}, 0
while i < len(data):
    j = data.index(b':', i)
    n = int(data[i:j])
    o = json.loads(data[j + 1:j + 1 + n])
    objs[(o['type'], o['properties'].get('__name', o['name']))] = o['properties']
    i = j + n + 2
want = [
    ('Host', 'r1-hostile', 'display_name', '  padded alias\t'),
    ('Host', 'r1-hostile', 'notes', 'first line\nsecond line; with semicolon\\'),
    ('Host', 'r1-hostile', 'notes_url', 'http://x.example/a;b?c=d\\'),
    ('Host', 'r1-hostile', 'vars.CTL', 'bell\x07|del\x7f|one\x017|tab\tend'),
    ('Host', 'r1-hostile', 'vars.MULTI', 'line 1\nline 2\r\nline 3'),
    ('Host', 'r1-hostile', 'vars.QUOTES', 'say "hi" \\ back $$USER1$$ {{{ }}} \\$$'),
    ('Host', 'r1-hostile', 'vars.MACRO', '$USER1$/check_foo -H $HOSTADDRESS$'),
    ('Host', 'r1-hostile', 'vars.UTF8', '\u00e4\u00f6\u00fc \u20ac \u65e5\u672c'),
    ('Host', 'r1-hostile', 'vars.bad name', 'dropped by Nagios'),
    ('Host', 'r1-quote"d', 'enable_active_checks', False),
    ('Service', 'r1-web01!say "cheese"', 'host_name', 'r1-web01'),
    ('Service', 'r1-semi;colon!svc', 'enable_passive_checks', True),
    ('Service', 'r1-web01!ends\\', 'max_check_attempts', 2),
    ('Service', 'r2-web01!HTTP', 'retry_interval', 60),
]
bad = 0
for t, name, key, val in want:
    p = objs.get((t, name), {})
    for k in key.split('.', 1):
        p = p.get(k) if isinstance(p, dict) else None
    ok = p == val
    bad += not ok
    print('%s icinga value: %s %r %s = %r%s' % ('ok  ' if ok else 'FAIL', t, name, key, val,
          '' if ok else ' (got %r)' % (p,)))
sys.exit(1 if bad else 0)
EOF
if command -v python3 > /dev/null; then
	python3 "$T/check.py" "$T/i/cache/icinga2.debug" || fail=1
else
	echo "skip icinga value checks (no python3)"
fi

# ------------------------------------------------------- shadow mode (siteload)
# Two untrusted remotes as siteload writes them (nagios_shadow1.cfg with the
# stale templates, central contacts admin/admins; nagios_shadow2.cfg without
# any: notifications off). No value Nagios read may hold a macro or shell
# metacharacter.
nagios_cfg "$T/nagios3.cfg" "$T/central.cfg" "$HERE/nagios_shadow1.cfg" "$HERE/nagios_shadow2.cfg"
nagios_verify "shadow: central + nagios_shadow1.cfg + nagios_shadow2.cfg" "$T/nagios3.cfg"
grep -E 'Checked [0-9]+ (hosts|services|host groups|service groups)\.' "$T/n/verify.out" | sed 's/^[[:space:]]*/       /'
if [ ! -s "$T/n/objects.precache" ] || ! awk -F'\t' '
	/^define (host|service|hostgroup|servicegroup) / { on = 1; next }
	/^\t}/ { on = 0 }
	on && $3 ~ /[$`"'"'"';]/ { print "       " $0; bad = 1 }
	END { exit bad }' "$T/n/objects.precache"; then
	echo "FAIL shadow: no precache, or a metacharacter in a value Nagios read (above)"
	fail=1
else
	echo "ok   shadow: no \$ \` \" ' ; in any value Nagios read"
fi

# Icinga 2, with the stock conf.d rules that keyed on remote values (ping4
# and ssh on host.address, mail on host.vars.notification) and the central's
# own rule for vars.sitedump_notify_users: only that one may apply.
cat > "$T/icinga2-shadow.conf" <<EOF
include <itl>
object NotificationCommand "notify-none" { command = [ "/bin/true" ] }
object User "admin" { }
object UserGroup "admins" { }
object CheckCommand "stock-ping" { command = [ "/bin/true" ] }
apply Service "ping4" { check_command = "stock-ping"; assign where host.address }
apply Service "ssh" { check_command = "stock-ping"; assign where (host.address || host.address6) && host.vars.os == "Linux" }
apply Notification "mail-icingaadmin" to Host { command = "notify-none"; users = [ "admin" ]; assign where host.vars.notification.mail }
apply Service "remote-var" { check_command = "stock-ping"; assign where host.vars.sitedump_remote.notification == "x" }
apply Notification "sitedump-host" to Host {
  command = "notify-none"
  if (host.vars.sitedump_notify_users) { users = host.vars.sitedump_notify_users }
  if (host.vars.sitedump_notify_user_groups) { user_groups = host.vars.sitedump_notify_user_groups }
  assign where host.vars.sitedump_site && (host.vars.sitedump_notify_users || host.vars.sitedump_notify_user_groups)
}
apply Notification "sitedump-service" to Service {
  command = "notify-none"
  if (service.vars.sitedump_notify_users) { users = service.vars.sitedump_notify_users }
  if (service.vars.sitedump_notify_user_groups) { user_groups = service.vars.sitedump_notify_user_groups }
  assign where host.vars.sitedump_site && (service.vars.sitedump_notify_users || service.vars.sitedump_notify_user_groups)
}
include "$HERE/icinga2_shadow1.conf"
include "$HERE/icinga2_shadow2.conf"
EOF
icinga_check "shadow: icinga2_shadow1.conf + icinga2_shadow2.conf, stock apply rules" "$T/icinga2-shadow.conf"
cat > "$T/check-shadow.py" <<'EOF'
import json, re, sys
data = open(sys.argv[1], 'rb').read()
objs, i = [], 0
while i < len(data):
    j = data.index(b':', i)
    n = int(data[i:j])
    objs.append(json.loads(data[j + 1:j + 1 + n]))
    i = j + n + 2
bad = 0
def check(ok, what):
    global bad
    bad += not ok
    print('%s shadow: %s' % ('ok  ' if ok else 'FAIL', what))
names = [(o['type'], o['properties'].get('__name', o['name'])) for o in objs]
check(not [n for n in names if n[0] == 'Service' and re.search(r'!(ping4|ssh)$', n[1])],
      'no stock ping4/ssh service applied to a shadow host')
check(not [n for n in names if n[0] == 'Notification' and 'mail-icingaadmin' in n[1]],
      'the stock mail notification applies to no shadow host')
sn = [n[1] for n in names if n[0] == 'Notification' and 'sitedump-' in n[1]]
check(sn and all(n.startswith('s1-') for n in sn) and any('!sitedump-service' in n for n in sn),
      'the central rule notifies for site 1 (users given) only: %d notifications' % len(sn))
hosts = {o['name']: o['properties'] for o in objs if o['type'] == 'Host'}
check(all(not h.get('address') for h in hosts.values()), 'no shadow host has an address')
check((hosts.get('s1-web01', {}).get('vars') or {}).get('sitedump_address') == '10.0.0.1', 'vars.sitedump_address kept')
check(hosts.get('s2-web01', {}).get('enable_notifications') is False, 'site 2 (no users): enable_notifications false')
rv = sorted(n[1] for n in names if n[0] == 'Service' and n[1].endswith('!remote-var'))
check(rv == ['s1-attack!remote-var', 's2-attack!remote-var'],
      'a rule on host.vars.sitedump_remote.notification validates on hosts without remote variables '
      'and matches the attack hosts only: %r' % rv)
check(((hosts.get('s1-attack', {}).get('vars') or {}).get('sitedump_remote') or {}).get('notification') == 'x',
      'a remote "notification" var lives in vars.sitedump_remote')
meta = set('$`"\'')     # ';' is fine in Icinga names, and display_name defaults to the name
def strings(v):
    if isinstance(v, str): yield v
    elif isinstance(v, dict):
        for x in v.values(): yield from strings(x)
    elif isinstance(v, list):
        for x in v: yield from strings(x)
leaks = [(n, s) for n, h in hosts.items() for k, v in h.items()
         if k in ('vars', 'display_name', 'notes', 'notes_url', 'action_url', 'icon_image')
         for s in strings(v) if meta & set(s)]
check(not leaks, 'no $ ` " \' in any host value Icinga read %s' % (leaks[:3] if leaks else ''))
sys.exit(1 if bad else 0)
EOF
if command -v python3 > /dev/null; then
	python3 "$T/check-shadow.py" "$T/i/cache/icinga2.debug" || fail=1
fi

if [ $fail = 0 ]; then echo "ALL OK"; else echo "FAILED"; fi
exit $fail
