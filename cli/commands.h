/* SPDX-License-Identifier: Apache-2.0 */
/* One entry point per subcommand (cli/cmd-*.c). Each returns the process exit status. */
#ifndef TB_CLI_COMMANDS_H
#define TB_CLI_COMMANDS_H

int tb_cmd_run(int argc, char **argv);
int tb_cmd_record(int argc, char **argv);
int tb_cmd_generate(int argc, char **argv);
int tb_cmd_export(int argc, char **argv);
int tb_cmd_audit(int argc, char **argv);
int tb_cmd_diff(int argc, char **argv);
int tb_cmd_explain(int argc, char **argv);
int tb_cmd_scan(int argc, char **argv);
int tb_cmd_serve(int argc, char **argv);

struct tb_run_cli;
/* `tightbox run --explain`: implemented with `tightbox explain` (cli/cmd-explain.c). */
int tb_cli_explain(struct tb_run_cli *o);

#endif
