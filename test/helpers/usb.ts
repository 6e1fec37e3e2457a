// A real USB stick without hardware: a FAT or exFAT image file mounted through FUSE, as root.
//   exfat: truncate an image, mkfs.exfat, `losetup -f --show`, `mount.exfat-fuse -d /dev/loopN DIR`
//   vfat:  truncate an image, mkfs.vfat -F 32, `fusefat -f -o rw+ IMAGE DIR`
// Both FUSE daemons run in the foreground as our children, so an unmount can wait for the daemon to finish
// writing, and pull() can kill it the way an unplugged stick vanishes (reads then fail with ENOTCONN).
// Every stick is unmounted, detached and removed by cleanupSticks() (call it in afterEach) and, as a last
// resort, when the process exits.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export type StickKind = "exfat" | "vfat";

/** The Debian packages the stick tests need (CI installs them in .ci/run). */
export const STICK_PACKAGES = "exfatprogs exfat-fuse dosfstools fusefat";
const INSTALL_HINT = `apt-get update && apt-get install -y ${STICK_PACKAGES}`;

interface Tool {
  readonly names: readonly string[];
  readonly pkg: string;
}

const TOOLS: Record<StickKind, readonly Tool[]> = {
  exfat: [
    { names: ["mkfs.exfat"], pkg: "exfatprogs" },
    { names: ["mount.exfat-fuse"], pkg: "exfat-fuse" },
    { names: ["losetup"], pkg: "mount" },
    { names: ["fusermount", "fusermount3"], pkg: "fuse (or fuse3)" },
  ],
  vfat: [
    { names: ["mkfs.vfat"], pkg: "dosfstools" },
    { names: ["fusefat"], pkg: "fusefat" },
    { names: ["fusermount", "fusermount3"], pkg: "fuse (or fuse3)" },
  ],
};

function which(names: readonly string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/sbin", "/usr/local/sbin"];
  for (const name of names)
    for (const dir of dirs) {
      if (dir === "") continue;
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  return undefined;
}

function tool(names: readonly string[]): string {
  const found = which(names);
  if (found === undefined) throw new Error(`${names.join(" or ")} not found. ${INSTALL_HINT}`);
  return found;
}

/**
 * Why a stick of this kind cannot be mounted here (naming the missing device, permission or Debian
 * package), or undefined when it can.
 */
export function stickProblem(kind: StickKind): string | undefined {
  const problems: string[] = [];
  if (process.platform !== "linux")
    return `USB stick tests need Linux with FUSE (this is ${process.platform}).`;
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
  } catch (error) {
    problems.push(
      `/dev/fuse is ${existsSync("/dev/fuse") ? "not readable and writable" : "missing"} (${(error as Error).message}): the machine must offer FUSE (a container needs --device /dev/fuse)`,
    );
  }
  if (kind === "exfat") {
    if (process.getuid?.() !== 0) problems.push("losetup needs root (run the tests as root)");
    if (!existsSync("/dev/loop-control") && !existsSync("/dev/loop0"))
      problems.push("no loop devices (/dev/loop-control, /dev/loop0): the machine must offer them");
  }
  for (const t of TOOLS[kind])
    if (which(t.names) === undefined)
      problems.push(`${t.names.join(" or ")} is missing (Debian package ${t.pkg})`);
  if (problems.length === 0) return undefined;
  return `Cannot mount the ${kind} stick image for the USB tests: ${problems.join("; ")}. Install with: ${INSTALL_HINT}`;
}

/** True when a stick of this kind can be mounted here. */
export function stickAvailable(kind: StickKind): boolean {
  return stickProblem(kind) === undefined;
}

/** Throws a clear error (the tests fail, they do not skip) when a stick of this kind cannot be mounted. */
export function requireStick(kind: StickKind): void {
  const problem = stickProblem(kind);
  if (problem !== undefined) throw new Error(problem);
}

function run(file: string, args: readonly string[]): string {
  const r = spawnSync(file, args, { encoding: "utf8", timeout: 30_000 });
  if (r.error) throw new Error(`${file} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(
      `${file} ${args.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr.trim() || r.stdout.trim()}`,
    );
  return r.stdout;
}

function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Whether `dir` is a mount point now (a dead FUSE mount still counts). */
function isMountPoint(dir: string): boolean {
  const info = readFileSync("/proc/self/mountinfo", "utf8");
  for (const line of info.split("\n")) {
    const field = line.split(" ")[4];
    if (field !== undefined && unescapeMountPath(field) === dir) return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(exited(child)), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export interface Stick {
  readonly kind: StickKind;
  /** The mount point: the stick's root while mounted, an empty directory while not. */
  readonly dir: string;
  /** The image file (the stick's "hardware"). */
  readonly image: string;
  readonly mounted: boolean;
  /** Clean eject: unmount, wait for the FUSE daemon to write everything out and exit, detach the loop device. */
  unmount(): Promise<void>;
  /** Plug it in again (the same image at the same mount point). */
  remount(): Promise<void>;
  /**
   * Yank it out: SIGKILL the FUSE daemon. The mount point stays mounted but dead (every access fails with
   * ENOTCONN) until unmount(), as after unplugging a stick without ejecting it.
   */
  pull(): Promise<void>;
  /** Unmount (if needed), detach and delete the image. */
  destroy(): Promise<void>;
}

const live = new Set<StickImpl>();

class StickImpl implements Stick {
  readonly dir: string;
  readonly image: string;
  readonly #root: string;
  readonly #log: string;
  #child: ChildProcess | undefined;
  #loop: string | undefined;
  #mountedHere = false;

  constructor(
    readonly kind: StickKind,
    sizeMiB: number,
  ) {
    this.#root = mkdtempSync(path.join(tmpdir(), `sfs-usb-${kind}-`));
    this.dir = path.join(realpathSync(this.#root), "mnt");
    this.image = path.join(this.#root, "stick.img");
    this.#log = path.join(this.#root, "fuse.log");
    mkdirSync(this.dir);
    writeFileSync(this.image, "");
    truncateSync(this.image, sizeMiB * 1024 * 1024);
    // No volume label: fusefat lists a FAT label's root entry as if it were a file.
    if (kind === "exfat") run(tool(["mkfs.exfat"]), [this.image]);
    else run(tool(["mkfs.vfat"]), [...(sizeMiB >= 64 ? ["-F", "32"] : []), this.image]);
  }

  get mounted(): boolean {
    return this.#mountedHere;
  }

  async mount(): Promise<void> {
    if (this.#mountedHere) return;
    if (isMountPoint(this.dir)) throw new Error(`${this.dir} is already a mount point`);
    let file: string;
    let args: string[];
    if (this.kind === "exfat") {
      this.#loop = run(tool(["losetup"]), ["-f", "--show", this.image]).trim();
      // -d keeps the daemon in the foreground (it also logs every operation, to the log file).
      file = tool(["mount.exfat-fuse"]);
      args = ["-d", this.#loop, this.dir];
    } else {
      file = tool(["fusefat"]);
      args = ["-f", "-o", "rw+", this.image, this.dir];
    }
    const log = openSync(this.#log, "w");
    let child: ChildProcess;
    try {
      child = spawn(file, args, { stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
    this.#child = child;
    let spawnError: Error | undefined;
    child.once("error", (error) => {
      spawnError = error;
    });
    const deadline = Date.now() + 15_000;
    while (!isMountPoint(this.dir)) {
      if (spawnError !== undefined || exited(child) || Date.now() > deadline) {
        child.kill("SIGKILL");
        await waitForExit(child, 5000);
        this.#child = undefined;
        this.#detach();
        const tail = existsSync(this.#log) ? readFileSync(this.#log, "utf8").slice(-2000) : "";
        throw new Error(
          `Mounting the ${this.kind} stick with ${file} ${args.join(" ")} failed (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode ?? "timeout"}`}): ${tail}`,
        );
      }
      await sleep(20);
    }
    this.#mountedHere = true;
  }

  async remount(): Promise<void> {
    await this.mount();
  }

  async unmount(): Promise<void> {
    if (this.#mountedHere || isMountPoint(this.dir)) {
      const fusermount = tool(["fusermount", "fusermount3"]);
      let done = false;
      let last = "";
      // A file still open on the stick makes it busy for a moment; then detach it lazily.
      for (let attempt = 0; attempt < 20 && !done; attempt++) {
        const r = spawnSync(fusermount, ["-u", this.dir], { encoding: "utf8", timeout: 30_000 });
        done = r.status === 0 || !isMountPoint(this.dir);
        last = r.stderr;
        if (!done) await sleep(50);
      }
      if (!done) {
        const r = spawnSync(fusermount, ["-u", "-z", this.dir], { encoding: "utf8", timeout: 30_000 });
        if (r.status !== 0 && isMountPoint(this.dir))
          throw new Error(`Cannot unmount ${this.dir}: ${last.trim()} / ${r.stderr.trim()}`);
      }
      this.#mountedHere = false;
    }
    const child = this.#child;
    this.#child = undefined;
    if (child !== undefined && !(await waitForExit(child, 15_000))) {
      child.kill("SIGKILL");
      await waitForExit(child, 5000);
    }
    this.#detach();
  }

  async pull(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.#mountedHere) throw new Error("The stick is not plugged in.");
    child.kill("SIGKILL");
    await waitForExit(child, 10_000);
  }

  async destroy(): Promise<void> {
    live.delete(this);
    try {
      await this.unmount();
    } finally {
      if (!isMountPoint(this.dir)) rmSync(this.#root, { recursive: true, force: true });
    }
  }

  /** Best effort, synchronous: for process exit. */
  destroySync(): void {
    if (isMountPoint(this.dir)) {
      const fusermount = which(["fusermount", "fusermount3"]);
      if (fusermount) spawnSync(fusermount, ["-u", "-z", this.dir], { timeout: 10_000 });
    }
    this.#child?.kill("SIGKILL");
    this.#detach();
    if (!isMountPoint(this.dir)) rmSync(this.#root, { recursive: true, force: true });
  }

  #detach(): void {
    const loop = this.#loop;
    if (loop === undefined) return;
    this.#loop = undefined;
    const losetup = which(["losetup"]);
    if (losetup === undefined) return;
    for (let attempt = 0; attempt < 50; attempt++) {
      const r = spawnSync(losetup, ["-d", loop], { encoding: "utf8", timeout: 10_000 });
      if (r.status === 0) return;
      // Still held by the daemon's last close: try again shortly (synchronously, it is rare and brief).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

let exitHook = false;

/** A fresh formatted stick image of `sizeMiB`, mounted through FUSE at `dir`. */
export async function mountStick(kind: StickKind, sizeMiB = 64): Promise<Stick> {
  requireStick(kind);
  const stick = new StickImpl(kind, sizeMiB);
  live.add(stick);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const s of live) s.destroySync();
    });
  }
  try {
    await stick.mount();
  } catch (error) {
    await stick.destroy().catch(() => undefined);
    throw error;
  }
  return stick;
}

/** Unmounts, detaches and deletes every stick still around (call in afterEach). */
export async function cleanupSticks(): Promise<void> {
  const errors: unknown[] = [];
  for (const stick of [...live]) await stick.destroy().catch((error: unknown) => errors.push(error));
  if (errors.length > 0) throw errors[0];
}

/**
 * Copies the changeset files (`changes/*.ndjson`) of one folder into another with `cp`, in the given order
 * (a person picks them in any order), creating the target's `changes/` when needed. A target that already holds
 * the same bytes is skipped, as rsync or a file manager's "skip identical" does; one with other bytes is
 * replaced (removed first: fusefat cannot rewrite a truncated file of more than one cluster, `cp` over it fails
 * with EPERM). Returns the names copied.
 */
export function copyChangeFiles(from: string, to: string, order: (names: string[]) => string[]): string[] {
  const source = path.join(from, "changes");
  const target = path.join(to, "changes");
  mkdirSync(target, { recursive: true });
  const names = order(
    (existsSync(source) ? readdirSync(source) : []).filter(
      (n) => n.endsWith(".ndjson") && !n.startsWith("."),
    ),
  ).filter((n) => {
    const dest = path.join(target, n);
    if (!existsSync(dest)) return true;
    if (readFileSync(dest).equals(readFileSync(path.join(source, n)))) return false;
    rmSync(dest);
    return true;
  });
  if (names.length > 0) run("cp", [...names.map((n) => path.join(source, n)), `${target}/`]);
  return names;
}
