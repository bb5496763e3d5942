-- reserved for the chat issue; replaced when it lands
select 1;
