# bash completion for tightbox                                  -*- shell-script -*-
# SPDX-License-Identifier: Apache-2.0
# Commands and options are read from tightbox's own help, so they never drift from the binary.

_tightbox_commands()
{
    "$1" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p'
}

_tightbox_options()
{
    "$1" "$2" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u
}

_tightbox()
{
    local cur prev words cword
    _init_completion || return
    local tb=${words[0]} cmd="" i

    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        -*) ;;
        *) cmd=${words[i]}; break ;;
        esac
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$(_tightbox_commands "$tb") --help --version" -- "$cur"))
        return
    fi
    if [[ $cmd == help ]]; then
        COMPREPLY=($(compgen -W "$(_tightbox_commands "$tb")" -- "$cur"))
        return
    fi
    # After "--" everything belongs to the sandboxed command.
    for ((i = i + 1; i < cword; i++)); do
        if [[ ${words[i]} == -- ]]; then
            _command_offset $((i + 1))
            return
        fi
    done
    case $prev in
    --backend) COMPREPLY=($(compgen -W "ptrace bpf auto" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "docker podman oci kubernetes spo" -- "$cur")); return ;;
    --args) COMPREPLY=($(compgen -W "none safe strict" -- "$cur")); return ;;
    --runtime) COMPREPLY=($(compgen -W "tightbox runc tightbox,runc" -- "$cur")); return ;;
    --fail-on) COMPREPLY=($(compgen -W "info low medium high" -- "$cur")); return ;;
    --network) COMPREPLY=($(compgen -W "none" -- "$cur")); return ;;
    --security-opt)
        COMPREPLY=($(compgen -W "no-new-privileges seccomp= apparmor= landlock=" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return ;;
    -o | --output | --profile-dir | --rootfs | -w | --workdir)
        _filedir -d; return ;;
    --script | --stdin | --baseline | --against | -v | --volume)
        _filedir; return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_tightbox_options "$tb" "$cmd")" -- "$cur"))
        return
    fi
    _filedir
}
complete -F _tightbox tightbox
