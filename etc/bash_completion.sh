# bash completion for slurm-cr's tools: cr_run, cr_checkpoint, cr_restart, cr_info and
# scontrol-cr (and scontrol, when scontrol-cr stands in for it).  The options come
# from each tool's own --help, so they never go stale.

_slurm_cr_options()
{
    "$1" --help 2>/dev/null | grep -oE -- '(^|[ ,])--[a-z][a-z-]*=?' | sed 's/^[ ,]*//' | sort -u
}

_slurm_cr_pids()
{
    ps -o pid= -u "$(id -u)" 2>/dev/null | tr -d ' '
}

_slurm_cr_tool()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        -f|--file|-d|--dir|--backup|--relocate) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -S|--signal) COMPREPLY=($(compgen -W "$(compgen -A signal | sed 's/^SIG//')" -- "$cur")); return ;;
        -F|--fd|-t|--time) return ;;
    esac
    if [[ $cur == -* ]]; then
        compopt -o nospace 2>/dev/null
        COMPREPLY=($(compgen -W "$(_slurm_cr_options "$1")" -- "$cur"))
        local i; for i in "${!COMPREPLY[@]}"; do [[ ${COMPREPLY[i]} == *= ]] || COMPREPLY[i]+=' '; done
        return
    fi
    case ${1##*/} in
        cr_checkpoint) COMPREPLY=($(compgen -W "$(_slurm_cr_pids)" -- "$cur")) ;;
        cr_run) COMPREPLY=($(compgen -c -- "$cur")) ;;
        *) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}

_slurm_cr_scontrol()
{
    local cur=${COMP_WORDS[COMP_CWORD]} i verb=-1
    for ((i = 1; i < COMP_CWORD; i++)); do
        [ "${COMP_WORDS[i]}" = checkpoint ] && { verb=$i; break; }
    done
    if [ $verb -lt 0 ]; then
        # not a checkpoint command: scontrol's own completion, when there is one
        if declare -F _scontrol > /dev/null; then _scontrol "$@"; return; fi
        [ $COMP_CWORD = 1 ] && COMPREPLY=($(compgen -W "checkpoint show update hold release" -- "$cur"))
        return
    fi
    case $((COMP_CWORD - verb)) in
        1) COMPREPLY=($(compgen -W "able create vacate requeue restart disable enable error list" -- "$cur")) ;;
        2) COMPREPLY=($(compgen -W "$(squeue -h -u "$(id -un)" -o %i 2>/dev/null)" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "MaxWait= ImageDir= StickToNodes" -- "$cur")); compopt -o nospace 2>/dev/null ;;
    esac
}

complete -F _slurm_cr_tool cr_run cr_checkpoint cr_restart cr_info
complete -F _slurm_cr_scontrol scontrol-cr
