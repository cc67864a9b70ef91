/** The things the emulator stores, in the shapes GET /_emulator/state shows them. */

export type Vars = Record<string, unknown>;

/** A cart or purchase item as stored; images are plain URL strings, as GET /user returns them. */
export interface StoredItem {
  id: string;
  qty: number;
  title: string;
  price: number;
  url: string;
  tags?: string[];
  images?: { full?: string; thumb?: string };
  vars?: Vars;
}

/** The one incomplete purchase (cart) a profile may have. */
export interface StoredCart {
  _id: string;
  /** RFC 2822, when the cart was last posted */
  time: string;
  timeMs: number;
  items: StoredItem[];
  qty: number;
  price: number;
  vars?: Vars;
  adjustments?: Adjustment[];
  reminder_template?: string;
  reminder_time?: string;
  /** epoch ms the reminder would fire at, when a reminder was scheduled */
  reminderAtMs?: number;
  message_id?: string;
  channel?: string;
}

export interface Adjustment {
  title: string;
  price: number;
}

export interface PurchaseRecord {
  _id: string;
  /** the profile it belongs to (follows merges) */
  sid: string;
  email: string;
  /** RFC 2822 purchase time (`date` when given, else when received) */
  time: string;
  receivedAt: string;
  items: StoredItem[];
  qty: number;
  /** total in cents: items plus adjustments */
  price: number;
  adjustments?: Adjustment[];
  vars?: Vars;
  purchase_keys?: Record<string, string>;
  send_template?: string;
  message_id?: string;
  channel?: string;
  user_agent?: string;
}

/** One POST /return (refund or return), in the order they arrived. */
export interface ReturnRecord {
  _id: string;
  /** the profile it belongs to (found or created by email) */
  sid: string;
  email: string;
  receivedAt: string;
  /** items as posted; `order_id` kept as text when given */
  items: Array<StoredItem & { order_id?: string }>;
  qty: number;
  /** cents returned: the items' price × qty */
  price: number;
}

export interface EventRecord {
  time: string;
  event: string;
  id: string;
  key: string;
  sid: string;
  vars?: Vars;
  schedule_time?: string;
}

export interface PageviewRecord {
  time: string;
  userIdKey?: string;
  userIdValue?: string;
  url: string;
  tags?: unknown;
  useStoredTags?: unknown;
  /** the profile the user keys found, if any (page views never create profiles) */
  sid: string | null;
}

export interface DeletedUser {
  sid: string;
  keys: Record<string, string>;
  time: string;
  reason: 'deleted' | 'merged';
  /** for merges: the profile that absorbed this one */
  mergedInto?: string;
}

export type JobStatus = 'pending' | 'completed' | 'error';

export interface JobRecord {
  job_id: string;
  name: string;
  job: 'update' | 'import' | 'purchase_import';
  status: JobStatus;
  start_time: string;
  end_time?: string;
  /** lines or emails applied */
  processed: number;
  /** lines or emails rejected */
  failed: number;
  /** first few reasons for rejected lines */
  errors: string[];
  /** why the whole job failed (status error) */
  errormsg?: string;
  list?: string;
  url?: string;
}
