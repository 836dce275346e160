import type { Request, RequestHandler, Response } from 'express';
import type { ServiceAnswer } from './charges';
import type { FaultInjector } from './faults';
import { PROBLEM_CONTENT_TYPE, PspProblem } from './problem';

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function send(res: Response, answer: ServiceAnswer): void {
  const { status, body } = answer.response;
  if (answer.replayed) res.setHeader('Idempotent-Replayed', 'true');
  if (status >= 400) res.type(PROBLEM_CONTENT_TYPE);
  res.status(status).json(body);
}

function unavailable(res: Response): void {
  const problem = new PspProblem(503, 'service-unavailable', 'injected fault: try again');
  res.setHeader('Retry-After', '1');
  res.status(503).type(PROBLEM_CONTENT_TYPE).json(problem.body());
}

/** Connection reset: the socket is destroyed, no status line is ever written. */
function reset(req: Request): void {
  req.socket.destroy();
}

/**
 * Runs `work` under this request's injected fault. Problems thrown by `work` (declines,
 * conflicts, validation) are answers like any other and are subject to the same fault.
 */
export function withFaults(faults: FaultInjector, work: (req: Request) => Promise<ServiceAnswer>): RequestHandler {
  return async (req, res) => {
    const fault = faults.draw();
    if (fault.kind === 'reset' && fault.when === 'before') return reset(req);
    if (fault.kind === 'error' && fault.when === 'before') return unavailable(res);

    let answer: ServiceAnswer;
    try {
      answer = await work(req);
    } catch (error) {
      if (!(error instanceof PspProblem)) throw error;
      answer = { response: { status: error.status, body: error.body() }, replayed: false };
    }

    if (fault.kind === 'reset') return reset(req);
    if (fault.kind === 'error') return unavailable(res);
    if (fault.kind === 'slow') await delay(fault.delayMs);
    send(res, answer);
  };
}
