/**
 * `kiln --help` (and `kiln` alone) without loading every command: the
 * command list of the top-level help from this table — name, usage term and
 * description as each command registers them — so the help starts as fast as
 * `--version`. src/cli/help-table.test.ts fails when a command's own
 * registration and this table differ (a new command, a changed description).
 */
import { Command, Help } from 'commander';

/** [name, term, description] in the order of program.ts's COMMANDS (hidden commands left out). */
export const COMMAND_HELP: [string, string, string][] = [
  ['pull', 'pull [options] <name>', 'Download an image from a registry'],
  ['push', 'push [options] <name>', 'Upload an image to a registry'],
  ['tag', 'tag <source> <target>', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'],
  ['images', 'images|ls [options] [repository]', 'List images'],
  ['rmi', 'rmi [options] <image...>', 'Remove one or more images'],
  ['inspect', 'inspect [options] <name...>', 'Show the details of containers or images as JSON (Docker-style fields)'],
  ['history', 'history [options] <image>', 'Show the history of an image'],
  ['save', 'save [options] <image...>', 'Save images to a tar archive that docker load accepts (or an OCI archive)'],
  ['load', 'load [options]', 'Load images from a docker or OCI archive (file or standard input)'],
  ['import', 'import [options] <file> [reference]', 'Create an image from a root filesystem tarball (plain, gzip or zstd), like docker import'],
  ['system', 'system', 'Manage kiln itself'],
  ['image', 'image', 'Manage images (the same commands as build, images, pull, push, rmi, tag, inspect…)'],
  ['builder', 'builder', 'Manage the build cache'],
  ['info', 'info [options]', 'Show the backend, the store and what it holds (kube: where the agent runs)'],
  ['login', 'login [options] [server]', 'Log in to a registry (credentials go to ~/.docker/config.json)'],
  ['logout', 'logout [server]', 'Log out from a registry'],
  ['debug', 'debug', 'Inspect how kiln reads Dockerfiles'],
  ['build', 'build [options] <context...>', 'Build an image from a Dockerfile'],
  ['executor', 'executor [options]', 'Build a Dockerfile inside an unprivileged container, in its own root, and push the image (kaniko-style)'],
  ['run', 'run [options] <image> [command...]', 'Create and start a container (foreground unless -d); exits with the container\'s code'],
  ['create', 'create [options] <image> [command...]', 'Create a container (started later with kiln start); prints its ID'],
  ['start', 'start [options] <container...>', 'Start containers. As in k3c, every start gives a fresh root filesystem from the image: files written by an earlier run are gone (use volumes to keep data)'],
  ['stop', 'stop [options] <container...>', 'Stop running containers: the stop signal (image STOPSIGNAL or SIGTERM), then SIGKILL after the timeout'],
  ['restart', 'restart [options] <container...>', 'Stop and start containers again. As in k3c, the new start gets a fresh root filesystem from the image (volumes keep their data)'],
  ['kill', 'kill [options] <container...>', 'Send a signal (default SIGKILL) to running containers'],
  ['rm', 'rm [options] <container...>', 'Remove containers (their root filesystem, network and state)'],
  ['container', 'container', 'Manage containers (prune; the others are the top-level run, ps, rm…)'],
  ['ps', 'ps [options]', 'List containers (running ones unless -a)'],
  ['logs', 'logs [options] <container>', 'Show a container\'s output (kept across restarts, in the CRI log format)'],
  ['exec', 'exec [options] <container> <command...>', 'Run a command in a running container; exits with its code'],
  ['wait', 'wait <container...>', 'Wait for containers to exit and print their exit codes'],
  ['rename', 'rename <container> <new-name>', 'Rename a container'],
  ['port', 'port <container> [private-port]', 'List a container\'s published ports, or the host address of one (PRIVATE_PORT[/PROTO])'],
  ['top', 'top <container> [ps-options...]', 'Display a running container\'s processes (ps options may follow, default -ef)'],
  ['stats', 'stats [options] [containers...]', 'Display containers\' resource usage (every running container when none is named)'],
  ['cp', 'cp [options] <src> <dest>', 'Copy files between a running container and this machine (CONTAINER:SRC DEST or SRC CONTAINER:DEST)'],
  ['diff', 'diff <container>', 'Inspect changes to files or directories on a running container\'s filesystem (A added, C changed, D deleted)'],
  ['export', 'export [options] <container>', 'Export a running container\'s filesystem as a tar archive'],
  ['commit', 'commit [options] <container> [reference]', 'Create a new image from a running container\'s changes'],
  ['events', 'events [options]', 'Show container and image events (streams new ones until --until or Ctrl-C)'],
  ['volume', 'volume', 'Manage named volumes'],
  ['attach', 'attach <container>', 'Follow a running container\'s output from now until it exits, then exit with its code (input is not attached: a detached container\'s stdin is closed)'],
  ['agent', 'agent [options]', 'Serve this machine\'s engine to remote kiln clients (kiln --host …)'],
  ['install', 'install [options]', 'Put the kiln agent on a builder node of the current Kubernetes context (then --backend kube builds there)'],
  ['uninstall', 'uninstall [options]', 'Remove the kiln agent and everything kiln install made from the current Kubernetes context'],
  ['dev', 'dev [options] <context>', 'Build on every change of the context and restart a Deployment with the new image (the inner loop)'],
  ['version', 'version [options]', 'Show the kiln version information'],
];

/** Adds every command of the table as an empty command that only the help lists. */
export function addHelpStubs(program: Command): void {
  const terms = new Map(COMMAND_HELP.map(([name, term]) => [name, term]));
  program.configureHelp({
    subcommandTerm(this: Help, cmd: Command): string {
      return terms.get(cmd.name()) ?? Help.prototype.subcommandTerm.call(this, cmd);
    },
  });
  for (const [name, , description] of COMMAND_HELP) program.addCommand(new Command(name).description(description));
}
