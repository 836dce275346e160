/** The floor workflow's one activity: no I/O, so the figure is Temporal's alone. */
export async function charge(paymentMethod: string): Promise<string> {
  return `charged ${paymentMethod}`;
}
