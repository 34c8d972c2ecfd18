import { fork, type ChildProcess } from 'node:child_process';

/**
 * A bench helper process (the load generator, the latency client) driven by messages: the parent sends a spec,
 * the child answers with `{ result }` or `{ error }`. Children run apart from the engine so that their CPU is
 * not counted as the engine's, and so that `node --cpu-prof` on the bench profiles only the servers.
 */
export class ChildRunner<Spec, Result> {
  private constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {}

  /** Forks `script` (a compiled bench file that calls {@link serveChild}) as a child named `name` in errors. */
  static start<Spec, Result>(script: string, name: string): ChildRunner<Spec, Result> {
    return new ChildRunner<Spec, Result>(fork(script, ['--child'], { execArgv: [], stdio: 'inherit' }), name);
  }

  run(spec: Spec): Promise<Result> {
    return new Promise((resolvePromise, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${this.name} exited (${code}) during a run`));
      this.child.once('exit', onExit);
      this.child.once('message', (message: { result?: Result; error?: string }) => {
        this.child.off('exit', onExit);
        if (message.error !== undefined) reject(new Error(message.error));
        else resolvePromise(message.result!);
      });
      this.child.send(spec as object);
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolvePromise) => {
      this.child.once('exit', () => resolvePromise());
      this.child.disconnect();
    });
  }
}

/** In the child: answers each spec the parent sends with `work(spec)`, and exits when the parent lets go. */
export function serveChild<Spec, Result>(work: (spec: Spec) => Promise<Result>): void {
  process.on('message', (spec: Spec) => {
    work(spec).then(
      (result) => process.send!({ result }),
      (error: Error) => process.send!({ error: error.stack ?? error.message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
