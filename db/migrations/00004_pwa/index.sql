-- reserved for the pwa issue; replaced when it lands
select 1;
