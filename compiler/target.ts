/**
 * The target contract, what a target is (DESIGN §2, §5): a pure function
 * from the read-only policy model to artifacts, plus the check that rejects
 * what the target cannot express. Targets never touch the file system;
 * `qpc compile` writes. Targets import this file and the compiler's lower
 * layers (the model and what it is made of), never the pipeline or the API.
 */
import type { Diagnostic } from './diagnostics/diagnostic.js';
import type { PolicyModel } from './model.js';

/** Where an artifact goes inside a qube, for artifacts provisioning pushes (Whonix files). */
export interface Deployment {
  /** The qube that receives the file (`qvm-run --pass-io --user root QUBE`). */
  readonly qube: string;
  /** Absolute path inside the qube. */
  readonly path: string;
  /** Octal file mode, e.g. `0644`, `0755`. */
  readonly mode: string;
  /** Commands (argv) run as root in the qube after its files changed, in order; the same command is run once. */
  readonly reload?: readonly (readonly string[])[];
}

export interface Artifact {
  /** Relative to the output directory, `/`-separated, no `..`. */
  readonly path: string;
  /** UTF-8 text, LF line endings, ends with a newline. */
  readonly contents: string;
  /** Written with mode 0755 (scripts). */
  readonly executable?: boolean;
  /** Set for files provisioning copies into a qube. */
  readonly deploy?: Deployment;
}

export interface Target {
  /** `qrexec`, `provision`, `xen`, `whonix`: the name `--target` takes. */
  readonly name: string;
  /** One line for `qpc compile --help`. */
  readonly summary: string;
  /** Targets whose artifacts this one needs (compiled with it). */
  readonly requires?: readonly string[];
  /**
   * What the model holds that this target cannot express, as QP4xxx
   * diagnostics at the source span that wrote it. Pure; nothing is emitted
   * when one of them is an error.
   */
  readonly check: (model: PolicyModel) => readonly Diagnostic[];
  /**
   * The artifacts, in path order. Pure and deterministic. `inputs` are the
   * artifacts of the targets this one `requires` (provisioning installs them).
   */
  readonly emit: (model: PolicyModel, inputs: readonly Artifact[]) => readonly Artifact[];
}
