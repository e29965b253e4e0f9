// Messages with files, and the removal of what was shared: an upload (a message with files[], of
// subtype file_share or none) goes to the intake; a deleted message (or one edited into a
// tombstone), file or channel is recorded with the core's deletions, which remove its shares.
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { ShareDeletions } from '../../core/conversations/share-deletions.js';
import { fileRefsFrom } from './file-download.js';
import type { UploadIntake } from './upload-intake.js';

export interface UploadEventsOptions {
  /** Indexes the files of a new message. */
  intake: Pick<UploadIntake, 'accept'>;
  /** Records deleted messages, files and channels; their shares are removed in order with uploads. */
  deletions: Pick<ShareDeletions, 'messageDeleted' | 'fileDeleted' | 'conversationDeleted'>;
  logger: Logger;
}

/** Registers the message, file_deleted and channel_deleted listeners on `app`. */
export function listenForUploads(app: App, options: UploadEventsOptions): void {
  const { intake, deletions, logger } = options;

  app.event('message', async ({ event, body }) => {
    const tenant = body.team_id;
    const message = event as unknown as MessageEventFields;
    try {
      if (message.subtype === 'message_deleted' && message.deleted_ts !== undefined) {
        deletions.messageDeleted(tenant, message.channel, message.deleted_ts);
      } else if (message.subtype === 'message_changed' && message.message?.subtype === 'tombstone' && message.message.ts !== undefined) {
        deletions.messageDeleted(tenant, message.channel, message.message.ts);
      } else if ((message.subtype === undefined || message.subtype === 'file_share') && message.files !== undefined) {
        await intake.accept({
          tenant,
          channel: message.channel,
          ts: message.ts,
          ...(message.thread_ts === undefined ? {} : { threadTs: message.thread_ts }),
          ...(message.user === undefined ? {} : { user: message.user }),
          files: fileRefsFrom(message.files),
        });
      }
    } catch (error) {
      logger.error({ err: error, channel: message.channel, subtype: message.subtype }, 'could not handle a message event');
    }
  });

  app.event('file_deleted', async ({ event, body }) => {
    try {
      deletions.fileDeleted(body.team_id, event.file_id);
    } catch (error) {
      logger.error({ err: error, fileId: event.file_id }, 'could not record a deleted file');
    }
  });

  app.event('channel_deleted', async ({ event, body }) => {
    try {
      deletions.conversationDeleted(body.team_id, event.channel);
    } catch (error) {
      logger.error({ err: error, channel: event.channel }, 'could not record a deleted channel');
    }
  });
}

/** The fields of a message event the bot reads (Bolt's union of subtypes is wider). */
interface MessageEventFields {
  /** Absent on a plain message; file_share, message_deleted, message_changed, … otherwise. */
  subtype?: string;
  /** The conversation's id. */
  channel: string;
  /** The message's timestamp (its id within the conversation). */
  ts: string;
  /** The thread's parent timestamp, when posted in a thread. */
  thread_ts?: string;
  /** Who posted it. */
  user?: string;
  /** The attached files, as Slack sends them (read by fileRefsFrom). */
  files?: unknown;
  /** On message_deleted: the deleted message's timestamp. */
  deleted_ts?: string;
  /** On message_changed: the message as it now is (a tombstone when its files were deleted). */
  message?: { subtype?: string; ts?: string };
}
