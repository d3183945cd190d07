/*
 * sim: the scripted provider (DESIGN.md section 9). A scenario file says, per
 * agent and per kind of wake, what the "model" answers, turn by turn, so a
 * company runs end to end with no model and no key. It is never presented as
 * intelligence: its model name is "sim" everywhere.
 *
 *   agents:
 *     ceo:
 *       - on: task                  # task | message | approval | timer | feed
 *         match: customers          # optional: a substring of the wake's text
 *         turns:
 *           - say: Splitting this.  # optional text
 *             call:                 # optional tool calls, in order
 *               - delegate: {to: cto, title: Ship Slack alerts}
 *           - say: Done for now.    # a turn without calls ends the run
 *
 * It is stateless: the script is chosen by the request's agent, wake kind and
 * first user message, and the turn by how many assistant messages the
 * conversation already holds. So a run resumed after a crash gets the same
 * answers, and sim needs no memory between calls. docs/sim.md has the rest.
 */
#ifndef FIRMA_SIM_H
#define FIRMA_SIM_H

#include "firma/llm.h"

/* Loads `path`; errors name the file and line. */
int fm_sim_new(uv_loop_t *loop, const char *path, fm_provider **out, fm_error *err);

#endif
