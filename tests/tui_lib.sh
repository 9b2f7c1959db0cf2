# tui_lib.sh - helpers for driving the ncurses UI inside a private tmux server.
# Sourced after lib.sh by t_tui.sh and t_tui_ssh.sh.

command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed (apt-get install tmux)"

# quiet CMD...: run CMD without its output.
quiet() { "$@" >/dev/null; }
# not CMD...: succeed if CMD fails.
not() { ! "$@"; }

# A tmux server of our own: private socket, our config, UTF-8 forced (-u).
TMUX_SOCK=confabtest$$
cat >"$T/tmux.conf" <<'EOF'
set -g remain-on-exit on
set -g history-limit 0
set -g status off
set -g default-terminal screen
set -g escape-time 10
EOF
unset TMUX
TM() { tmux -u -L "$TMUX_SOCK" -f "$T/tmux.conf" "$@"; }
declare -A TUI_PID
cleanup_hooks+=("tui_cleanup")

# Kill every UI we started and the tmux server.
tui_cleanup() {
	local n
	for n in "${!TUI_PID[@]}"; do
		kill -9 "${TUI_PID[$n]}" 2>/dev/null || true
	done
	TM kill-server 2>/dev/null || true
}

# tui_start NAME COLS ROWS COMMAND...: run COMMAND in a new tmux session NAME.
# A shell around it records the exit status in $T/NAME.rc (tmux may report a
# pane dead before it has collected the status); TUI_PID[NAME] is COMMAND's pid.
tui_start() {
	local name=$1 cols=$2 rows=$3; shift 3
	local cmd="" a sh i=0
	for a in "$@"; do cmd="$cmd $(printf '%q' "$a")"; done
	rm -f "$T/$name.rc"
	TM new-session -d -s "$name" -x "$cols" -y "$rows" \
		"ulimit -c 0; $cmd; echo \$? >$(printf '%q' "$T/$name.rc.tmp"); mv $(printf '%q' "$T/$name.rc.tmp") $(printf '%q' "$T/$name.rc")" ||
		return 1
	sh=$(TM display -p -t "$name" '#{pane_pid}')
	TUI_PID[$name]=""
	while [ $i -lt 100 ] && [ -z "${TUI_PID[$name]}" ]; do
		TUI_PID[$name]=$(pgrep -P "$sh" | head -n 1)
		[ -n "${TUI_PID[$name]}" ] || sleep 0.05
		i=$((i + 1))
	done
	[ -n "${TUI_PID[$name]}" ]
}

# screen NAME: the pane's text now.
screen() { TM capture-pane -p -t "$1"; }

# screen_esc NAME: the pane's text with attributes and colours as escapes.
screen_esc() { TM capture-pane -p -e -t "$1"; }

# wait_screen NAME ERE [SECONDS]: wait until the pane shows a match.
wait_screen() {
	local name=$1 re=$2 secs=${3:-10} i=0
	while [ $i -lt $((secs * 10)) ]; do
		screen "$name" | grep -Eq -- "$re" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "# timed out waiting for /$re/ on $name; the screen was:"
	screen "$name" | sed 's/^/#   |/'
	return 1
}

# wait_gone NAME ERE [SECONDS]: wait until the pane no longer shows a match.
wait_gone() {
	local name=$1 re=$2 secs=${3:-10} i=0
	while [ $i -lt $((secs * 10)) ]; do
		screen "$name" | grep -Eq -- "$re" || return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "# timed out waiting for /$re/ to go from $name"
	return 1
}

# shows NAME ERE: whether the pane shows a match now.
shows() { screen "$1" | grep -Eq -- "$2"; }

# keys NAME KEY...: send tmux key names (Enter, C-a, M-2, PPage, ...).
keys() { local n=$1; shift; TM send-keys -t "$n" "$@"; }

# type_text NAME TEXT: type TEXT literally, as keystrokes.
type_text() { TM send-keys -t "$1" -l -- "$2"; }

# say_line NAME TEXT: type TEXT and press Enter.
say_line() { type_text "$1" "$2"; TM send-keys -t "$1" Enter; }

# paste NAME TEXT: paste TEXT the way a terminal does (bracketed when the app asks).
paste() {
	TM set-buffer -b confabpaste -- "$2"
	TM paste-buffer -p -d -b confabpaste -t "$1"
}

# pane_fmt NAME FORMAT: a tmux format for the pane (#{pane_title}, #{cursor_x}, ...).
pane_fmt() { TM display -p -t "$1" "$2"; }

# wait_dead NAME [SECONDS]: wait until the program in the pane has exited.
wait_dead() {
	local name=$1 secs=${2:-10} i=0
	while [ $i -lt $((secs * 10)) ]; do
		[ -s "$T/$name.rc" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# exit_status NAME: the exit status of the program in the pane (128+N: signal N).
exit_status() { cat "$T/$1.rc" 2>/dev/null; }

# status_addr NAME: the first listening address shown in the status bar.
status_addr() {
	wait_screen "$1" '\[127\.0\.0\.1:[0-9]+' 10 >/dev/null || return 1
	screen "$1" | grep -oE '\[127\.0\.0\.1:[0-9]+' | head -n 1 | tr -d '['
}

# cpu_ticks PID: user + system clock ticks the process used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wakeups PID: voluntary context switches so far (each sleep that ended).
wakeups() { awk '/^voluntary_ctxt_switches:/ {print $2}' "/proc/$1/status"; }

# idle_report NAME PID SECONDS: measure and print idle CPU as TAP comments.
idle_report() {
	local name=$1 pid=$2 secs=$3 t0 t1 w0 w1 hz
	hz=$(getconf CLK_TCK)
	t0=$(cpu_ticks "$pid"); w0=$(wakeups "$pid")
	sleep "$secs"
	t1=$(cpu_ticks "$pid"); w1=$(wakeups "$pid")
	diag "idle $name over ${secs} s: $((t1 - t0)) CPU ticks of 1/$hz s" \
		"($(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.2f", 100 * t / hz / s}')% CPU)," \
		"$((w1 - w0)) wake-ups ($(awk -v w=$((w1 - w0)) -v s="$secs" 'BEGIN {printf "%.1f", w / s}')/s)"
}
