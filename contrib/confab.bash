# bash completion for confab(1)                              -*- shell-script -*-
#
# Options are read from `confab --help` (once per shell), so that the list
# stays the program's own; subcommands, cipher names and the arguments that
# name files or directories are completed here.

# The long options confab --help lists, cached in _confab_opts.
_confab_options()
{
	if [[ -z ${_confab_opts-} ]]; then
		_confab_opts=$("${1:-confab}" --help 2>/dev/null |
			grep -o -- '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ')
	fi
	printf '%s' "$_confab_opts"
}

# Complete the word at COMP_CWORD of a confab command line.
_confab()
{
	local cur prev words cword i sub=""
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	# the subcommand, if one was typed before the current word
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		id | send | recv | invite) sub=${COMP_WORDS[i]}; break ;;
		esac
	done

	case $prev in
	--home | --dir | --download-dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return ;;
	--log | --tor-config | --tor-binary)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--cipher)
		mapfile -t COMPREPLY < <(compgen -W "chachapoly aesgcm" -- "$cur")
		return ;;
	--nick | --listen | --discovery-iface | --discovery-refresh | --nat-lease | \
	--dns-name | --proxy | --keepalive | --handshake-timeout | --limit-rate | --to | --from | --text | --exit-when-idle | \
	--tor-control | --tor-password)
		return ;;   # free text: nothing sensible to offer
	esac

	if [[ $cur == -* ]]; then
		local opts drop
		case $sub in
		id) opts="--home --help" ;;
		invite) opts="--home --dns-name --listen --help" ;;
		*)
			# --help lists every option, the one-shot ones in its usage lines
			case $sub in
			send) drop="--dir --from --yes --exit-when-idle" ;;
			recv) drop="--to --text --exit-when-idle" ;;
			*) drop="--to --text --dir --from --yes" ;;
			esac
			opts=" $(_confab_options "${COMP_WORDS[0]}") "
			for i in $drop; do opts=${opts/ $i / }; done ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi
	case $sub in
	"")
		mapfile -t COMPREPLY < <(compgen -W "id send recv invite" -- "$cur") ;;
	send)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	esac
} &&
	complete -F _confab confab
