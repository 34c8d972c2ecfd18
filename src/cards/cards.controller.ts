import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { Ctx } from '../auth/ctx.decorator';
import { CardService, type CardOptions } from './card.service';

function optionsOf(lang: unknown, explain: unknown): CardOptions {
  const language = lang === undefined ? 'en' : lang;
  if (typeof language !== 'string' || !/^[a-z]{2}(-[A-Z]{2})?$/.test(language)) {
    throw new AppException('bad_request', 'invalid_language', 'lang must be a language code such as en, sv or pt-BR.');
  }
  if (explain !== undefined && explain !== 'true' && explain !== 'false') {
    throw new AppException('bad_request', 'invalid_explain', 'explain must be true or false.');
  }
  return { lang: language, explain: explain === 'true' };
}

/** The entity card of a record, and the draft evaluation a UI calls on every edit. */
@Controller('api/v1')
export class CardsController {
  constructor(private readonly cards: CardService) {}

  @Post(':module/card/evaluate')
  @HttpCode(200)
  async evaluate(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Body() body: unknown,
    @Query('lang') lang: unknown,
    @Query('explain') explain: unknown,
  ) {
    return { data: await this.cards.evaluate(ctx, module, body, optionsOf(lang, explain)) };
  }

  @Get(':module/:id/card')
  async card(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Param('id') id: string,
    @Query('lang') lang: unknown,
    @Query('explain') explain: unknown,
  ) {
    return { data: await this.cards.card(ctx, module, id, optionsOf(lang, explain)) };
  }
}
