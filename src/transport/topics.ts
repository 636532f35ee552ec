/* Topic names of the contract (docs/mqtt.md), in one place. */
export class Topics {
  readonly prefix: string;

  constructor(
    fleet: string,
    readonly device: string,
  ) {
    this.prefix = `vecgate/${fleet}`;
  }

  groupConfig(group: string): string {
    return `${this.prefix}/group/${group}/config`;
  }

  get deviceConfig(): string {
    return `${this.prefix}/device/${this.device}/config`;
  }

  get state(): string {
    return `${this.prefix}/device/${this.device}/state`;
  }

  get status(): string {
    return `${this.prefix}/device/${this.device}/status`;
  }

  get telemetry(): string {
    return `${this.prefix}/device/${this.device}/telemetry`;
  }

  get otaJob(): string {
    return `${this.prefix}/device/${this.device}/ota/job`;
  }

  get otaState(): string {
    return `${this.prefix}/device/${this.device}/ota/state`;
  }
}
